using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Blobs.Tests;

/// <summary>One Azurite blob service (HTTP, shared key, in memory) for the test assembly, stopped at the end.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string AccountName = "devstoreaccount1";

    // Azurite's published development account key, not a secret.
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private NodeServer? _server;
    private string? _workingDirectory;

    public Uri ServiceUri { get; private set; } = null!;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={ServiceUri};";

    /// <summary>A client for arranging and inspecting blobs behind the adapter's back.</summary>
    public BlobServiceClient ServiceClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (_server, _workingDirectory) = await StartAzuriteAsync([]);
        ServiceUri = new Uri($"http://127.0.0.1:{_server.Port}/{AccountName}");
        ServiceClient = CreateServiceClient();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        DeleteDirectory(_workingDirectory);
    }

    /// <summary>A new shared-key client; policies see every request it sends.</summary>
    public BlobServiceClient CreateServiceClient(params HttpPipelinePolicy[] policies) => new(ConnectionString, ClientOptions(policies));

    /// <summary>A shared-key client that reaches the service through a relay the test can cut.</summary>
    public static BlobServiceClient ThroughRelay(TcpRelay relay, BlobClientOptions? options = null) =>
        new(
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{relay.Port}/{AccountName};",
            options ?? ClientOptions());

    /// <summary>A client for an account on a free loopback port where nothing listens, failing within <paramref name="bound"/>.</summary>
    public static BlobServiceClient Unreachable(TimeSpan bound) =>
        new(
            new Uri($"http://127.0.0.1:{FreePort.Next()}/{AccountName}"),
            new StorageSharedKeyCredential(AccountName, AccountKey),
            BlobClientTimeouts.Bound(ClientOptions(), bound));

    /// <summary>A container name no other test uses.</summary>
    public static string NewContainerName(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";

    public async Task<BlobContainerClient> CreateContainerAsync()
    {
        var container = ServiceClient.GetBlobContainerClient(NewContainerName());
        await container.CreateAsync();
        return container;
    }

    /// <summary>Client options for Azurite: MD5 or no transfer validation (Azurite does not support CRC64), optional policies.</summary>
    public static BlobClientOptions ClientOptions(params HttpPipelinePolicy[] policies)
    {
        var options = new BlobClientOptions();
        options.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.MD5;
        options.TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        foreach (var policy in policies)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        }

        return options;
    }

    /// <summary>Starts the Azurite blob service on a free loopback port, in memory, with extra arguments.</summary>
    internal static async Task<(NodeServer Server, string WorkingDirectory)> StartAzuriteAsync(IEnumerable<string> extraArguments)
    {
        var script = TestPaths.RequireNodeModule("azurite/dist/src/blob/main.js");
        var port = FreePort.Next();
        var workingDirectory = Path.Combine(Path.GetTempPath(), "iomt-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workingDirectory);
        string[] arguments =
        [
            "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent",
            .. extraArguments,
        ];
        try
        {
            return (await NodeServer.StartAsync(script, arguments, port, workingDirectory: workingDirectory), workingDirectory);
        }
        catch
        {
            DeleteDirectory(workingDirectory);
            throw;
        }
    }

    internal static void DeleteDirectory(string? directory)
    {
        try
        {
            if (directory is not null && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
