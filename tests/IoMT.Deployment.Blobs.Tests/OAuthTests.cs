using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using IoMT.Deployment.Testing;
using Microsoft.Extensions.DependencyInjection;
using static IoMT.Deployment.Blobs.Tests.TestPackages;

namespace IoMT.Deployment.Blobs.Tests;

/// <summary>A second Azurite over HTTPS (self-signed) that accepts bearer tokens (<c>--oauth basic</c>).</summary>
public sealed class AzuriteOAuthFixture : IAsyncLifetime
{
    private NodeServer? _server;
    private string? _workingDirectory;

    public SelfSignedCertificate Certificate { get; } = SelfSignedCertificate.Create();

    public Uri ServiceUri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (_server, _workingDirectory) = await AzuriteFixture.StartAzuriteAsync(["--oauth", "basic", "--cert", Certificate.CertPath, "--key", Certificate.KeyPath]);
        ServiceUri = new Uri($"https://127.0.0.1:{_server.Port}/{AzuriteFixture.AccountName}");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        AzuriteFixture.DeleteDirectory(_workingDirectory);
        Certificate.Dispose();
    }

    /// <summary>Client options whose transport trusts exactly this fixture's self-signed certificate.</summary>
    public BlobClientOptions ClientOptions()
    {
        var options = AzuriteFixture.ClientOptions();
        var thumbprint = Certificate.Certificate.Thumbprint;
        options.Transport = new HttpClientTransport(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
        });
        return options;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteOAuthCollection : ICollectionFixture<AzuriteOAuthFixture>
{
    public const string Name = "Azurite OAuth";
}

[Collection(AzuriteOAuthCollection.Name)]
public sealed class OAuthTests(AzuriteOAuthFixture azurite)
{
    [Fact]
    public async Task Publish_and_list_work_over_https_with_a_bearer_token()
    {
        var credential = new UnsignedJwtCredential();
        var containerName = AzuriteFixture.NewContainerName("oauth");
        var services = new ServiceCollection();
        services.AddIoMTDeployment()
            .UseCredential(credential)
            .AddBlobArtifacts(azurite.ServiceUri, azurite.ClientOptions(), o => o.ContainerName = containerName)
            .AddBlobArtifactPublisher(azurite.ServiceUri, azurite.ClientOptions(), o => o.CreateIfMissing = true);
        await using var provider = services.BuildServiceProvider();

        var published = await provider.GetRequiredService<IArtifactPublisher>().PublishAsync(Build("20201105.3"), new MemoryStream(Zip(3)));
        var listed = await provider.GetRequiredService<IArtifactSource>().ListAsync().ToListAsync();

        Assert.Equal(PublishOutcome.Created, published.Outcome);
        Assert.Equal(published.Sha256, Assert.Single(listed).Sha256);
        Assert.Equal(Uri.UriSchemeHttps, listed[0].Location!.Scheme);
        Assert.Contains("https://storage.azure.com/.default", credential.RequestedScopes);
    }

    [Fact]
    public async Task A_lock_refused_for_lack_of_a_token_is_access_denied_naming_the_lock()
    {
        var credential = new UnsignedJwtCredential();
        var container = new BlobServiceClient(azurite.ServiceUri, credential, azurite.ClientOptions()).GetBlobContainerClient(AzuriteFixture.NewContainerName("oauth-lock"));
        await container.CreateAsync();
        var anonymous = new BlobServiceClient(azurite.ServiceUri, azurite.ClientOptions()).GetBlobContainerClient(container.Name);
        var rolloutLock = new BlobRolloutLock(anonymous);

        var denied = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => rolloutLock.TryAcquireAsync("worker-a"));

        Assert.Equal(StoreUnavailableException.RolloutLock, denied.Store);
        Assert.Contains(container.Name, denied.Endpoint, StringComparison.Ordinal);
        Assert.IsType<Azure.RequestFailedException>(denied.InnerException);
    }

    [Fact]
    public async Task A_request_without_a_token_is_refused()
    {
        var credential = new UnsignedJwtCredential();
        var container = new BlobServiceClient(azurite.ServiceUri, credential, azurite.ClientOptions()).GetBlobContainerClient(AzuriteFixture.NewContainerName("oauth"));
        await container.CreateAsync();
        Assert.Empty(await new BlobArtifactSource(container).ListAsync().ToListAsync());

        var anonymous = new BlobServiceClient(azurite.ServiceUri, azurite.ClientOptions()).GetBlobContainerClient(container.Name);
        var refused = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => new BlobArtifactSource(anonymous).ListAsync().ToListAsync().AsTask());
        Assert.Equal(StoreUnavailableException.ArtifactContainer, refused.Store);
        Assert.False(refused.IsTransient);

        var cause = Assert.IsType<Azure.RequestFailedException>(refused.InnerException);
        Assert.Contains(cause.Status, new[] { 401, 403 });
        Assert.Contains(container.Name, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var container = new BlobServiceClient(azurite.ServiceUri, new UnsignedJwtCredential(audience: "https://management.azure.com"), azurite.ClientOptions())
            .GetBlobContainerClient(AzuriteFixture.NewContainerName("oauth"));

        var refused = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => new BlobArtifactSource(container).ListAsync().ToListAsync().AsTask());
        Assert.Equal(StoreUnavailableException.ArtifactContainer, refused.Store);

        var cause = Assert.IsType<Azure.RequestFailedException>(refused.InnerException);
        Assert.Equal((403, "AuthenticationFailed"), (cause.Status, cause.ErrorCode));
        Assert.DoesNotContain("ey", refused.Message, StringComparison.Ordinal); // no token in the message
    }

    /// <summary>Gives an unsigned JWT shaped like an Entra ID storage token; Azurite checks its shape, not a signature.</summary>
    private sealed class UnsignedJwtCredential(string audience = "https://storage.azure.com") : TokenCredential
    {
        private readonly List<string> _scopes = [];

        public IReadOnlyList<string> RequestedScopes
        {
            get
            {
                lock (_scopes)
                {
                    return [.. _scopes];
                }
            }
        }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (_scopes)
            {
                _scopes.AddRange(requestContext.Scopes);
            }

            var now = DateTimeOffset.UtcNow;
            var expires = now.AddHours(1);
            var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "none", typ = "JWT" }));
            var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["iss"] = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
                ["aud"] = audience,
                ["iat"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["exp"] = expires.ToUnixTimeSeconds(),
                ["oid"] = "11111111-1111-1111-1111-111111111111",
                ["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47",
            }));
            return new AccessToken($"{header}.{payload}.", expires);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
