using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos.Tests;

/// <summary>Every test class that talks to the server is in this collection: one server for the whole assembly.</summary>
[CollectionDefinition(Name)]
public sealed class CosmosServerCollection : ICollectionFixture<CosmosServerFixture>
{
    public const string Name = "cosmosdb-server";
}

/// <summary>
/// Starts @vercel/cosmosdb-server (through tools/test-servers/cosmosdb-server.js, HTTPS with a fresh self-signed
/// certificate) on a free loopback port once per test assembly, and stops it at the end.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes fixtures through IAsyncLifetime.DisposeAsync.")]
public sealed class CosmosServerFixture : IAsyncLifetime
{
    /// <summary>Any base64 key: the test server does not check signatures.</summary>
    public static readonly string AccountKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("iomt-deployment-test-server-key-0123456789"));

    private SelfSignedCertificate? _certificate;
    private NodeServer? _server;
    private CosmosClient? _client;

    public CosmosServerFixture()
    {
        // Without it the SDK asks the gateway for query plans, which the test server does not serve; it must be set
        // before the first CosmosClient is made.
        Environment.SetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX", "true");
    }

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>A client for seeding and inspecting documents behind the adapters' backs.</summary>
    public CosmosClient Client => _client ?? throw new InvalidOperationException("The fixture is not initialized.");

    public string CertificateThumbprint => _certificate!.Certificate.Thumbprint;

    public async Task InitializeAsync()
    {
        TestPaths.RequireNodeModule(Path.Combine("@vercel", "cosmosdb-server", "lib", "index.js"));
        var script = Path.Combine(TestPaths.TestServers, "cosmosdb-server.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"The test server script '{script}' is missing.");
        }

        _certificate = SelfSignedCertificate.Create();
        var port = FreePort.Next();
        _server = await NodeServer.StartAsync(
            script,
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cert", _certificate.CertPath, "--key", _certificate.KeyPath],
            port,
            TimeSpan.FromSeconds(30),
            workingDirectory: TestPaths.TestServers);
        Endpoint = new Uri($"https://127.0.0.1:{port}/");
        var options = new CosmosClientOptions();
        ConfigureClient(options);
        _client = new CosmosClient(Endpoint.AbsoluteUri, AccountKey, options);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _certificate?.Dispose();
    }

    /// <summary>Gateway mode on the one endpoint, trusting only this fixture's certificate.</summary>
    public void ConfigureClient(CosmosClientOptions options)
    {
        options.ConnectionMode = ConnectionMode.Gateway;
        options.LimitToEndpoint = true;
        options.ServerCertificateCustomValidationCallback = AcceptsOurCertificate;
    }

    public bool AcceptsOurCertificate(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors) =>
        string.Equals(certificate.Thumbprint, CertificateThumbprint, StringComparison.OrdinalIgnoreCase);

    /// <summary>Points options at the server, in a database of their own (created on first use).</summary>
    public TOptions Use<TOptions>(TOptions options, bool createIfMissing = true)
        where TOptions : CosmosContainerOptions
    {
        options.AccountEndpoint = Endpoint;
        options.AccountKey = AccountKey;
        options.ConfigureClientOptions = ConfigureClient;
        options.DatabaseName = NewName("db");
        options.CreateIfMissing = createIfMissing;
        return options;
    }

    public static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>Creates the database and container behind the adapter's back.</summary>
    public async Task<Container> CreateContainerAsync(string database, string container, string partitionKeyPath)
    {
        var db = await Client.CreateDatabaseIfNotExistsAsync(database);
        var created = await db.Database.CreateContainerIfNotExistsAsync(new ContainerProperties(container, partitionKeyPath));
        return created.Container;
    }

    /// <summary>Writes a raw JSON document.</summary>
    public static async Task PutRawAsync(Container container, string json, string partitionKey)
    {
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        using var response = await container.UpsertItemStreamAsync(body, new PartitionKey(partitionKey));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Reads a raw JSON document.</summary>
    public static async Task<System.Text.Json.JsonDocument> ReadRawAsync(Container container, string id, string partitionKey)
    {
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(partitionKey));
        response.EnsureSuccessStatusCode();
        return await System.Text.Json.JsonDocument.ParseAsync(response.Content);
    }
}
