using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Storage;
using Azure.Storage.Blobs;
using IoMT.Deployment.Loopback;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.ProcessTests;

/// <summary>The process tests share one set of servers.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessServersCollection : ICollectionFixture<AzureProcessServers>
{
    public const string Name = "Process servers";
}

/// <summary>
/// Azurite, cosmosdb-server (HTTPS, self-signed) and the loopback App Service host for tests that start a real process
/// (the CLI, the worker host): the process trusts both certificates through <c>SSL_CERT_FILE</c>, reaches the scm host
/// names through the host's CONNECT proxy (<c>HTTPS_PROXY</c>) and takes its ARM and scm tokens from the host's
/// managed-identity endpoint (<c>IDENTITY_ENDPOINT</c>, <c>IDENTITY_HEADER</c>), as it would in App Service.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes fixtures through IAsyncLifetime.DisposeAsync.")]
public sealed class AzureProcessServers : IAsyncLifetime
{
    /// <summary>Azurite's published development account key, not a secret.</summary>
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Any base64 key: the Cosmos test server does not check signatures.</summary>
    public static readonly string CosmosAccountKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("iomt-process-tests-cosmos-key-0123456789"));

    private NodeServer? _azurite;
    private NodeServer? _cosmos;
    private SelfSignedCertificate? _cosmosCertificate;
    private AppServiceHost? _host;
    private CosmosClient? _cosmosClient;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "iomt-process-servers-" + Guid.NewGuid().ToString("N"));

    public AzureProcessServers()
    {
        Environment.SetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX", "true");
    }

    public string StorageConnectionString { get; private set; } = null!;

    public BlobServiceClient Blobs { get; private set; } = null!;

    public Uri CosmosEndpoint { get; private set; } = null!;

    public CosmosClient Cosmos => _cosmosClient ?? throw new InvalidOperationException("Not initialized.");

    public AppServiceHost Host => _host ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>The PEM bundle (loopback host + Cosmos server certificates) for <c>SSL_CERT_FILE</c>.</summary>
    public string CertificateBundle => Path.Combine(_directory, "trusted.pem");

    /// <summary>
    /// What a process needs to reach the servers as if in App Service with a managed identity; every other Azure credential
    /// variable is removed so only the managed identity can answer.
    /// </summary>
    public Dictionary<string, string?> ProcessEnvironment()
    {
        var environment = new Dictionary<string, string?>
        {
            ["SSL_CERT_FILE"] = CertificateBundle,
            ["SSL_CERT_DIR"] = null,
            ["AZURE_CLIENT_ID"] = null,
            ["AZURE_TENANT_ID"] = null,
            ["AZURE_CLIENT_SECRET"] = null,
            ["AZURE_FEDERATED_TOKEN_FILE"] = null,
            ["MSI_ENDPOINT"] = null,
            ["MSI_SECRET"] = null,
            ["AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX"] = "true",

            // The Cosmos SDK asks the Azure VM metadata endpoint (169.254.169.254) for its telemetry: never off the loopback here.
            ["COSMOS_DISABLE_IMDS_ACCESS"] = "true",
        };
        foreach (var (name, value) in Host.ManagedIdentityEnvironment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in Host.ProxyEnvironment)
        {
            environment[name] = value;
        }

        return environment;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var azurite = StartAzuriteAsync();
        var cosmos = StartCosmosAsync();
        var host = AppServiceHost.StartAsync(new AppServiceHostOptions());
        try
        {
            await Task.WhenAll(azurite, cosmos, host);
        }
        finally
        {
            _azurite = azurite.IsCompletedSuccessfully ? azurite.Result : null;
            _cosmos = cosmos.IsCompletedSuccessfully ? cosmos.Result : null;
            _host = host.IsCompletedSuccessfully ? host.Result : null;
        }

        StorageConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{_azurite!.Port}/devstoreaccount1;";
        var blobOptions = new BlobClientOptions();
        blobOptions.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.MD5;
        blobOptions.TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        Blobs = new BlobServiceClient(StorageConnectionString, blobOptions);

        CosmosEndpoint = new Uri($"https://127.0.0.1:{_cosmos!.Port}/");
        _cosmosClient = new CosmosClient(CosmosEndpoint.AbsoluteUri, CosmosAccountKey, new CosmosClientOptions
        {
            ConnectionMode = ConnectionMode.Gateway,
            LimitToEndpoint = true,
            ServerCertificateCustomValidationCallback = (certificate, _, _) =>
                string.Equals(certificate.Thumbprint, _cosmosCertificate!.Certificate.Thumbprint, StringComparison.OrdinalIgnoreCase),
        });
        await File.WriteAllTextAsync(CertificateBundle, Host.ExportCertificatePem() + "\n" + _cosmosCertificate!.Certificate.ExportCertificatePem() + "\n");
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
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Adds Function apps to the host and their connector documents to the database's <c>connectors</c> container.</summary>
    public async Task<IReadOnlyList<AppServiceApp>> AddConnectorsAsync(string database, string subscription, int count)
    {
        var db = (await Cosmos.CreateDatabaseIfNotExistsAsync(database)).Database;
        var container = (await db.CreateContainerIfNotExistsAsync(new ContainerProperties("connectors", "/id"))).Container;
        var apps = new List<AppServiceApp>();
        for (var i = 0; i < count; i++)
        {
            var name = $"p{i}-{Guid.NewGuid():N}"[..20];
            var app = Host.AddApp(subscription, "rg-iomt", name);
            var document = JsonSerializer.Serialize(new { id = name, resourceId = app.ResourceId, state = "Active" });
            using var body = new MemoryStream(Encoding.UTF8.GetBytes(document));
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(name));
            response.EnsureSuccessStatusCode();
            apps.Add(app);
        }

        return apps;
    }

    private async Task<NodeServer> StartAzuriteAsync()
    {
        var script = TestPaths.RequireNodeModule("azurite/dist/src/blob/main.js");
        var port = FreePort.Next();
        var workingDirectory = Path.Combine(_directory, "azurite");
        Directory.CreateDirectory(workingDirectory);
        return await NodeServer.StartAsync(
            script,
            ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            port,
            workingDirectory: workingDirectory);
    }

    private async Task<NodeServer> StartCosmosAsync()
    {
        TestPaths.RequireNodeModule(Path.Combine("@vercel", "cosmosdb-server", "lib", "index.js"));
        var script = Path.Combine(TestPaths.TestServers, "cosmosdb-server.js");
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
