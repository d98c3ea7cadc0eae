using Azure.Core;
using Azure.Identity;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cosmos.Tests;

[Collection(CosmosServerCollection.Name)]
public sealed class CompositionTests(CosmosServerFixture fixture) : IDisposable
{
    private readonly string _localRoot = Path.Combine(Path.GetTempPath(), "iomt-cosmos-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_localRoot))
        {
            Directory.Delete(_localRoot, recursive: true);
        }
    }

    /// <summary>A host on the core's embedded local provider, whose version store and inventory the adapters replace.</summary>
    private IIoMTDeploymentBuilder LocalHost()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        return services.AddIoMTDeployment().AddLocalProvider(o => o.Root = _localRoot);
    }

    private static IIoMTDeploymentBuilder BareHost()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        return services.AddIoMTDeployment();
    }

    [Fact]
    public async Task Cosmos_adapters_replace_the_local_defaults_and_work_through_the_container()
    {
        var builder = LocalHost();
        var services = builder.Services;
        Assert.Contains(services, d => d.ServiceType == typeof(IVersionStore));
        Assert.Contains(services, d => d.ServiceType == typeof(IConnectorInventory));
        var database = CosmosServerFixture.NewName("db");
        builder
            .AddCosmosVersionStore(o => Point(o, database))
            .AddCosmosConnectorInventory(o => Point(o, database));

        Assert.Single(services, d => d.ServiceType == typeof(IVersionStore));
        Assert.Single(services, d => d.ServiceType == typeof(IConnectorInventory));
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var store = Assert.IsType<CosmosVersionStore>(provider.GetRequiredService<IVersionStore>());
        var inventory = Assert.IsType<CosmosConnectorInventory>(provider.GetRequiredService<IConnectorInventory>());
        Assert.Same(store, provider.GetRequiredService<CosmosVersionStore>());
        var engine = Assert.IsType<RolloutEngine>(provider.GetRequiredService<IRolloutEngine>());

        var eTag = await store.WriteAsync(new VersionState { Current = BuildNumber.Parse("3") }, null);
        Assert.Equal(eTag, (await store.ReadAsync()).ETag);

        // The composed engine reads and writes the Cosmos store, not a local one.
        var artifacts = provider.GetRequiredService<IoMT.Deployment.Local.LocalLayout>().Artifacts;
        Directory.CreateDirectory(artifacts);
        File.WriteAllBytes(Path.Combine(artifacts, BuildNumber.Parse("4").PackageFileName), Zip().ToArray());
        Assert.True(await engine.InvalidateAsync(BuildNumber.Parse("4"), "bad build", "tester"));
        var state = (await store.ReadAsync()).State;
        Assert.Equal(BuildNumber.Parse("3"), state.Current);
        Assert.Equal(BuildNumber.Parse("4"), Assert.Single(state.Invalidated).Build);
        Assert.False(await inventory.ExistsAsync("nobody"));

        // Both live in the named database, in their default containers.
        var db = fixture.Client.GetDatabase(database);
        Assert.Equal(CosmosVersionStoreOptions.DefaultContainerName, (await db.GetContainer(CosmosVersionStoreOptions.DefaultContainerName).ReadContainerAsync()).Resource.Id);
        Assert.Equal(CosmosConnectorInventoryOptions.DefaultContainerName, (await db.GetContainer(CosmosConnectorInventoryOptions.DefaultContainerName).ReadContainerAsync()).Resource.Id);
    }

    [Fact]
    public async Task The_engine_invalidates_and_reinstates_through_the_cosmos_version_store()
    {
        var database = CosmosServerFixture.NewName("db");
        await using var provider = LocalHost().AddLocalArtifactPublisher().AddCosmosVersionStore(o => Point(o, database)).Services.BuildServiceProvider();
        var build = BuildNumber.Parse("20240301.2");
        await provider.GetRequiredService<IArtifactPublisher>().PublishAsync(build, Zip());
        var engine = provider.GetRequiredService<IRolloutEngine>();
        var store = new CosmosVersionStore(fixture.Client, new CosmosVersionStoreOptions { DatabaseName = database });

        Assert.True(await engine.InvalidateAsync(build, "bad build", "tester"));

        var invalidation = Assert.Single((await store.ReadAsync()).State.Invalidated);
        Assert.Equal(build, invalidation.Build);
        Assert.Equal("bad build", invalidation.Reason);
        Assert.Equal("tester", invalidation.Actor);

        Assert.True(await engine.ReinstateAsync(build, "tester"));

        Assert.Empty((await store.ReadAsync()).State.Invalidated);
    }

    private static MemoryStream Zip()
    {
        var stream = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(zip.CreateEntry("host.json").Open());
            writer.Write("{\"version\":\"2.0\"}");
        }

        stream.Position = 0;
        return stream;
    }

    [Fact]
    public async Task Calling_the_extensions_twice_is_harmless()
    {
        var builder = LocalHost();
        var services = builder.Services;
        var database = CosmosServerFixture.NewName("db");
        builder.AddCosmosVersionStore(o => Point(o, database)).AddCosmosVersionStore(o => o.HistoryLimit = 7);
        builder.AddCosmosConnectorInventory(o => Point(o, database)).AddCosmosConnectorInventory(o => o.MaxItemCount = 9);

        Assert.Single(services, d => d.ServiceType == typeof(IVersionStore));
        Assert.Single(services, d => d.ServiceType == typeof(CosmosVersionStore));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<CosmosVersionStoreOptions>) && d.ImplementationType == typeof(CosmosOptionsValidator<CosmosVersionStoreOptions>));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(7, provider.GetRequiredService<IOptions<CosmosVersionStoreOptions>>().Value.HistoryLimit);
        Assert.Equal(database, provider.GetRequiredService<IOptions<CosmosVersionStoreOptions>>().Value.DatabaseName);
        Assert.Equal(9, provider.GetRequiredService<IOptions<CosmosConnectorInventoryOptions>>().Value.MaxItemCount);
        Assert.Null((await provider.GetRequiredService<IVersionStore>().ReadAsync()).ETag);
    }

    [Fact]
    public async Task A_CosmosClient_registered_by_the_host_is_used_when_no_endpoint_is_set()
    {
        var builder = LocalHost();
        var services = builder.Services;
        var database = CosmosServerFixture.NewName("db");
        services.AddSingleton(fixture.Client);
        builder
            .AddCosmosVersionStore(o => { o.DatabaseName = database; o.CreateIfMissing = true; })
            .AddCosmosConnectorInventory(o => { o.DatabaseName = database; o.CreateIfMissing = true; });

        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        await provider.GetRequiredService<IVersionStore>().WriteAsync(VersionState.Empty with { Current = BuildNumber.Parse("1") }, null);

        // Written with the host's client: visible to it, and the provider did not dispose it.
        await provider.DisposeAsync();
        var read = await fixture.Client.GetContainer(database, CosmosVersionStoreOptions.DefaultContainerName)
            .ReadItemStreamAsync(CosmosVersionStoreOptions.DefaultStateDocumentId, new PartitionKey(CosmosVersionStoreOptions.DefaultStateDocumentId));
        Assert.True(read.IsSuccessStatusCode);
    }

    [Fact]
    public async Task An_endpoint_with_a_token_credential_authenticates_with_it()
    {
        var credential = new RecordingCredential();
        var database = CosmosServerFixture.NewName("db");
        await using var provider = BareHost().UseCredential(credential).AddCosmosVersionStore(o =>
        {
            Point(o, database);
            o.AccountKey = null;
        }).Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Null((await provider.GetRequiredService<IVersionStore>().ReadAsync()).ETag);

        lock (credential.Scopes)
        {
            // The SDK asks for "{scheme}://{host}/.default" of the account.
            Assert.Contains($"https://{fixture.Endpoint.Host}/.default", credential.Scopes);
        }
    }

    private const string VersionStore = CosmosVersionStoreOptions.SectionName;
    private const string Connectors = CosmosConnectorInventoryOptions.SectionName;
    private const string NotAName = " is not a valid Cosmos DB name: it cannot be empty, contain '/', '\\', '?' or '#', or end with a space.";

    public static TheoryData<string, Action<CosmosVersionStoreOptions>> InvalidVersionStoreOptions => new()
    {
        { $"{VersionStore}:DatabaseName is required: name the database that holds the container.", o => o.DatabaseName = null },
        { $"{VersionStore}:DatabaseName{NotAName}", o => o.DatabaseName = "a/b" },
        { $"{VersionStore}:ContainerName is required.", o => o.ContainerName = "" },
        { $"{VersionStore}:ContainerName{NotAName}", o => o.ContainerName = "what?" },
        { $"{VersionStore}:StateDocumentId{NotAName}", o => o.StateDocumentId = "state#1" },
        { $"{VersionStore}:StateDocumentId is longer than 200 characters.", o => o.StateDocumentId = new string('s', 201) },
        { $"{VersionStore}:HistoryLimit must be between 1 and 100000.", o => o.HistoryLimit = 0 },
        { $"{VersionStore}:OperationTimeout must be between 1 second and 10 minutes.", o => o.OperationTimeout = TimeSpan.FromHours(1) },
        { $"{VersionStore}:AccountKey is not a base64 account key.", o => o.AccountKey = "not base64 !" },
        { $"{VersionStore}:AccountEndpoint must be an absolute https:// (or, for a local server, http://) URI.", o => o.AccountEndpoint = new Uri("ftp://example.com/") },
        { $"{VersionStore}:AccountEndpoint is not set and no CosmosClient is registered in the service collection: set the endpoint (with an AccountKey, or the builder's UseCredential) or register a CosmosClient.", o => { o.AccountEndpoint = null; o.AccountKey = null; } },
    };

    [Theory]
    [MemberData(nameof(InvalidVersionStoreOptions))]
    public async Task Invalid_version_store_options_fail_at_start_naming_the_setting(string expected, Action<CosmosVersionStoreOptions> spoil)
    {
        await using var provider = BareHost().AddCosmosVersionStore(o =>
        {
            Point(o, "db");
            spoil(o);
        }).Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal([expected], error.Failures);
        Assert.DoesNotContain(CosmosServerFixture.AccountKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64 !", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endpoint_without_a_key_or_a_credential_fails_at_start_naming_the_call_to_make()
    {
        await using var provider = BareHost().AddCosmosVersionStore(o =>
        {
            Point(o, "db");
            o.AccountKey = null;
        }).Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.StartsWith("AddCosmosVersionStore (AccountEndpoint without AccountKey) needs an Azure credential and none is set: call .UseCredential(credential)", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<CosmosConnectorInventoryOptions>> InvalidInventoryOptions => new()
    {
        { $"{Connectors}:DatabaseName is required: name the database that holds the container.", o => o.DatabaseName = " " },
        { $"{Connectors}:MaxItemCount must be between 1 and 10000.", o => o.MaxItemCount = 0 },
        { $"{Connectors}:ExistsQuery must use the parameter @id.", o => o.ExistsQuery = "SELECT * FROM c WHERE c.id = 'x'" },
        { $"{Connectors}:Query is required.", o => o.Query = null },
        { $"{Connectors}:PartitionKeyPath must be a path such as /id or /subscriptionId.", o => o.PartitionKeyPath = "id" },
        { $"{Connectors}:AccountKey needs {Connectors}:AccountEndpoint.", o => o.AccountEndpoint = null },
    };

    [Theory]
    [MemberData(nameof(InvalidInventoryOptions))]
    public async Task Invalid_inventory_options_fail_at_start_naming_the_setting(string expected, Action<CosmosConnectorInventoryOptions> spoil)
    {
        await using var provider = BareHost().AddCosmosConnectorInventory(o =>
        {
            Point(o, "db");
            spoil(o);
        }).Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public async Task Valid_options_pass_the_start_up_validation()
    {
        await using var provider = BareHost()
            .AddCosmosVersionStore(o => Point(o, "db"))
            .AddCosmosConnectorInventory(o => Point(o, "db"))
            .Services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
    }

    private void Point(CosmosContainerOptions options, string database)
    {
        options.AccountEndpoint = fixture.Endpoint;
        options.AccountKey = CosmosServerFixture.AccountKey;
        options.ConfigureClientOptions = fixture.ConfigureClient;
        options.DatabaseName = database;
        options.CreateIfMissing = true;
    }

    /// <summary>A credential that hands out a fixed token and records the scopes it was asked for.</summary>
    private sealed class RecordingCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Scopes)
            {
                Scopes.AddRange(requestContext.Scopes);
            }

            return new AccessToken("test-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
