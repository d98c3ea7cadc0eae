using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Storage.Blobs;
using IoMT.Deployment.Loopback;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>
/// One test's world on the shared servers: its own artifact and lock containers, Cosmos database and subscription, and
/// the production composition over them (worker replicas and the delivery step), disposed with the test.
/// </summary>
internal sealed class ProductionWorld(TestServersFixture servers) : IAsyncDisposable
{
    public const string FhirSetting = "FhirServerUrl";

    private readonly List<ServiceProvider> _providers = [];
    private readonly string _packagesRoot = Path.Combine(Path.GetTempPath(), "iomt-e2e-build-" + Guid.NewGuid().ToString("N"));

    public string ArtifactContainer { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    public string LockContainer { get; } = "e2e-lock-" + Guid.NewGuid().ToString("N");

    public string Database { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    public string Subscription { get; } = Guid.NewGuid().ToString();

    public AppServiceHost Host => servers.Host;

    public BlobContainerClient Artifacts => servers.Blobs.GetBlobContainerClient(ArtifactContainer);

    /// <summary>A worker replica: Blob artifacts and lease, Cosmos state and inventory, Kudu deployer on the loopback host.</summary>
    public ServiceProvider CreateWorker(Action<RolloutOptions>? configure = null, Action<IServiceCollection>? services2 = null)
    {
        var connectionString = servers.StorageConnectionString;
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment(o =>
            {
                o.MaxParallelism = 8;
                configure?.Invoke(o);
            })
            .AddBlobArtifacts(connectionString, configure: o => o.ContainerName = ArtifactContainer)
            .AddBlobRolloutLock(connectionString, configure: o => o.ContainerName = LockContainer)
            .AddCosmosVersionStore(UseCosmos)
            .AddCosmosConnectorInventory(UseCosmos)
            .UseCredential(Host.Credential)
            .AddKuduDeployer(o =>
            {
                o.ArmEndpoint = Host.ArmEndpoint;
                o.Transport = Host.CreateTransport();
                o.RetryDelay = TimeSpan.FromMilliseconds(5);
                o.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
                o.PollInterval = TimeSpan.FromMilliseconds(5);
                o.ConflictRetryDelay = TimeSpan.FromMilliseconds(5);
                o.DeploymentTimeout = TimeSpan.FromSeconds(60);
            });
        services2?.Invoke(services);
        return Track(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
    }

    /// <summary>The pipeline's delivery step: a provider holding only the Blob publisher (the write side).</summary>
    public ServiceProvider CreateDelivery()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment()
            .AddBlobArtifactPublisher(servers.StorageConnectionString, configure: o =>
            {
                o.ContainerName = ArtifactContainer;
                o.CreateIfMissing = true;
            });
        return Track(services.BuildServiceProvider());
    }

    /// <summary>Packages a build output folder (deterministic zip) whose content depends on the build.</summary>
    public async Task<byte[]> PackageAsync(string build, string flavour = "")
    {
        var folder = Path.Combine(_packagesRoot, build + flavour);
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        await File.WriteAllTextAsync(Path.Combine(folder, "host.json"), "{\"version\":\"2.0\"}");
        await File.WriteAllTextAsync(Path.Combine(folder, "build.txt"), build + flavour);
        await File.WriteAllTextAsync(Path.Combine(folder, "bin", "IoMT.Connector.dll"), $"connector code of build {build}{flavour}");
        return await DeterministicPackager.PackageAsync(folder);
    }

    /// <summary>Delivers a build through <see cref="DeliveryService"/> on the Blob publisher.</summary>
    public async Task<DeliveryResult> DeliverAsync(ServiceProvider delivery, string build)
    {
        var result = await delivery.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse(build), await PackageAsync(build));
        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        return result;
    }

    /// <summary>Adds Function apps to the host and their connector documents (id, resourceId, state) to Cosmos.</summary>
    public async Task<IReadOnlyList<AppServiceApp>> AddConnectorsAsync(int count)
    {
        var container = await ConnectorsAsync();
        var apps = new List<AppServiceApp>();
        for (var i = 0; i < count; i++)
        {
            var name = $"e2e-{i}-{Guid.NewGuid():N}"[..24];
            var app = Host.AddApp(Subscription, "rg-iomt", name, settings: new Dictionary<string, string> { [FhirSetting] = FhirUrl(name) });
            var document = JsonSerializer.Serialize(new { id = name, resourceId = app.ResourceId, state = "Active" });
            using var body = new MemoryStream(Encoding.UTF8.GetBytes(document));
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(name));
            response.EnsureSuccessStatusCode();
            apps.Add(app);
        }

        return apps;
    }

    public static string FhirUrl(string app) => $"https://{app}.fhir.azurehealthcareapis.com";

    /// <summary>Removes a connector's document, as connector deletion does.</summary>
    public async Task DeleteConnectorDocumentAsync(AppServiceApp app)
    {
        using var response = await (await ConnectorsAsync()).DeleteItemStreamAsync(app.Name, new PartitionKey(app.Name));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The version state document as stored in Cosmos DB, with its ETag (null ETag: no document yet).</summary>
    public async Task<StoredState> ReadStoredStateAsync()
    {
        var database = (await servers.Cosmos.CreateDatabaseIfNotExistsAsync(Database)).Database;
        var container = database.GetContainer("deployment");
        using var response = await container.ReadItemStreamAsync("version-state", new PartitionKey("version-state"));
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return new StoredState(null, null, null, []);
        }

        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(response.Content);
        var root = document.RootElement;
        string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        var invalidated = root.TryGetProperty("invalidated", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(i => i.GetProperty("build").GetString()!).ToList()
            : [];
        return new StoredState(response.Headers.ETag, Text("current"), Text("inFlight"), invalidated);
    }

    public int ZipDeploys(IEnumerable<AppServiceApp> apps) => apps.Sum(a => Host.CountRequests(AppServiceRoute.ZipDeploy, a.Name));

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        foreach (var app in Host.Apps.Where(a => a.SubscriptionId == Subscription))
        {
            Host.DeleteApp(app);
        }

        if (Directory.Exists(_packagesRoot))
        {
            Directory.Delete(_packagesRoot, recursive: true);
        }

        await servers.Blobs.GetBlobContainerClient(ArtifactContainer).DeleteIfExistsAsync();
        await servers.Blobs.GetBlobContainerClient(LockContainer).DeleteIfExistsAsync();
        using var deleted = await servers.Cosmos.GetDatabase(Database).DeleteStreamAsync();
    }

    private async Task<Container> ConnectorsAsync()
    {
        var database = (await servers.Cosmos.CreateDatabaseIfNotExistsAsync(Database)).Database;
        return (await database.CreateContainerIfNotExistsAsync(new ContainerProperties("connectors", "/id"))).Container;
    }

    private void UseCosmos(Cosmos.CosmosContainerOptions options)
    {
        options.AccountEndpoint = servers.CosmosEndpoint;
        options.AccountKey = TestServersFixture.CosmosAccountKey;
        options.DatabaseName = Database;
        options.CreateIfMissing = true;
        options.ConfigureClientOptions = servers.ConfigureCosmosClient;
    }

    private ServiceProvider Track(ServiceProvider provider)
    {
        _providers.Add(provider);
        return provider;
    }
}

/// <summary>The stored version state: the document's ETag, current and in-flight builds, invalidated builds.</summary>
internal sealed record StoredState(string? ETag, string? Current, string? InFlight, IReadOnlyList<string> Invalidated);
