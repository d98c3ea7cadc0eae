using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Storage;
using Azure.Storage.Blobs;
using IoMT.Deployment.Loopback;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>Every end-to-end test shares the three servers: started once for the assembly, stopped at the end.</summary>
[CollectionDefinition(Name)]
public sealed class TestServersCollection : ICollectionFixture<TestServersFixture>
{
    public const string Name = "Test servers";
}

/// <summary>
/// Azurite (Blob Storage), @vercel/cosmosdb-server (Cosmos DB, HTTPS with a fresh self-signed certificate) and the
/// loopback App Service host (ARM + Kudu), each on a free loopback port, started in parallel.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes fixtures through IAsyncLifetime.DisposeAsync.")]
public sealed class TestServersFixture : IAsyncLifetime
{
    // Azurite's published development account key, not a secret.
    private const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Any base64 key: the Cosmos test server does not check signatures.</summary>
    public static readonly string CosmosAccountKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("iomt-deployment-end-to-end-key-0123456789"));

    private NodeServer? _azurite;
    private NodeServer? _cosmos;
    private SelfSignedCertificate? _cosmosCertificate;
    private AppServiceHost? _host;
    private CosmosClient? _cosmosClient;
    private string? _azuriteDirectory;

    public TestServersFixture()
    {
        // Must be set before the first CosmosClient, or cross-partition queries ask the gateway for a query plan.
        Environment.SetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX", "true");
    }

    /// <summary>The storage connection string of the Azurite account.</summary>
    public string StorageConnectionString { get; private set; } = null!;

    /// <summary>A client for arranging and inspecting blobs behind the adapters' backs.</summary>
    public BlobServiceClient Blobs { get; private set; } = null!;

    public Uri CosmosEndpoint { get; private set; } = null!;

    /// <summary>A client for seeding and inspecting documents behind the adapters' backs.</summary>
    public CosmosClient Cosmos => _cosmosClient ?? throw new InvalidOperationException("The fixture is not initialized.");

    public AppServiceHost Host => _host ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async Task InitializeAsync()
    {
        var azurite = StartAzuriteAsync();
        var cosmos = StartCosmosAsync();
        var host = AppServiceHost.StartAsync(new AppServiceHostOptions());
        try
        {
            await Task.WhenAll(azurite, cosmos, host);
        }
        finally
        {
            // Keep whatever started, so DisposeAsync stops it even when another server failed.
            _azurite = azurite.IsCompletedSuccessfully ? azurite.Result : null;
            _cosmos = cosmos.IsCompletedSuccessfully ? cosmos.Result : null;
            _host = host.IsCompletedSuccessfully ? host.Result : null;
        }

        StorageConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{_azurite!.Port}/devstoreaccount1;";
        var blobOptions = new BlobClientOptions();
        blobOptions.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.MD5; // Azurite has no CRC64
        blobOptions.TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        Blobs = new BlobServiceClient(StorageConnectionString, blobOptions);

        CosmosEndpoint = new Uri($"https://127.0.0.1:{_cosmos!.Port}/");
        var cosmosOptions = new CosmosClientOptions();
        ConfigureCosmosClient(cosmosOptions);
        _cosmosClient = new CosmosClient(CosmosEndpoint.AbsoluteUri, CosmosAccountKey, cosmosOptions);
    }

    public async Task DisposeAsync()
    {
        _cosmosClient?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_cosmos is not null)
        {
            await _cosmos.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        _cosmosCertificate?.Dispose();
        try
        {
            if (_azuriteDirectory is not null && Directory.Exists(_azuriteDirectory))
            {
                Directory.Delete(_azuriteDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Gateway mode on the one endpoint, trusting only this fixture's certificate.</summary>
    public void ConfigureCosmosClient(CosmosClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ConnectionMode = ConnectionMode.Gateway;
        options.LimitToEndpoint = true;
        options.ServerCertificateCustomValidationCallback = AcceptsCosmosCertificate;
    }

    private bool AcceptsCosmosCertificate(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors) =>
        string.Equals(certificate.Thumbprint, _cosmosCertificate!.Certificate.Thumbprint, StringComparison.OrdinalIgnoreCase);

    private async Task<NodeServer> StartAzuriteAsync()
    {
        var script = TestPaths.RequireNodeModule("azurite/dist/src/blob/main.js");
        var port = FreePort.Next();
        _azuriteDirectory = Path.Combine(Path.GetTempPath(), "iomt-e2e-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_azuriteDirectory);
        return await NodeServer.StartAsync(
            script,
            [
                "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
                "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent",
            ],
            port,
            workingDirectory: _azuriteDirectory);
    }

    private async Task<NodeServer> StartCosmosAsync()
    {
        TestPaths.RequireNodeModule(Path.Combine("@vercel", "cosmosdb-server", "lib", "index.js"));
        var script = Path.Combine(TestPaths.TestServers, "cosmosdb-server.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"The test server script '{script}' is missing.");
        }

        _cosmosCertificate = SelfSignedCertificate.Create();
        var port = FreePort.Next();
        return await NodeServer.StartAsync(
            script,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--cert", _cosmosCertificate.CertPath, "--key", _cosmosCertificate.KeyPath],
            port,
            TimeSpan.FromSeconds(30),
            workingDirectory: TestPaths.TestServers);
    }
}
