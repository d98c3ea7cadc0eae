using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using IoMT.Deployment.Blobs;
using IoMT.Deployment.Cosmos;
using IoMT.Deployment.Kudu;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.Cli.Composition;

/// <summary>
/// Composes the Azure adapters from the <c>Azure</c> configuration section: Blob Storage (artifacts and the rollout lock),
/// Cosmos DB (version state and, by default, the connector inventory) and App Service (Kudu zip deploy, or Run From
/// Package; optionally the ARM inventory). One <see cref="DefaultAzureCredential"/> and one <see cref="CosmosClient"/> are
/// built for the run and shared.
/// </summary>
/// <remarks>
/// Keys (environment: <c>IOMT_DEPLOY__AZURE__BLOBS__SERVICEURI</c> and so on):
/// <c>Azure:TenantId</c>, <c>Azure:ManagedIdentityClientId</c> (credential);
/// <c>Azure:Blobs:ServiceUri</c> or <c>Azure:Blobs:ConnectionString</c>, <c>Azure:Blobs:ContainerName</c> and the other
/// <see cref="BlobArtifactOptions"/>; <c>Azure:Blobs:Lock:*</c> (<see cref="BlobRolloutLockOptions"/>);
/// <c>Azure:Cosmos:AccountEndpoint</c>, <c>Azure:Cosmos:AccountKey</c> (emulators), <c>Azure:Cosmos:DatabaseName</c>,
/// <c>Azure:Cosmos:ConnectionMode</c> (Direct or Gateway), <c>Azure:Cosmos:VersionStore:*</c>
/// (<see cref="CosmosVersionStoreOptions"/>), <c>Azure:Cosmos:Connectors:*</c> (<see cref="CosmosConnectorInventoryOptions"/>);
/// <c>Azure:StoreTimeout</c> (how long Blob Storage or Cosmos DB may take to answer before the command fails with exit
/// code 6; 00:00:30 by default), <c>Azure:Deployer</c> (<c>kudu</c> or <c>runfrompackage</c>), <c>Azure:Inventory</c> (<c>cosmos</c> or <c>arm</c>),
/// <c>Azure:Arm:*</c> (<see cref="KuduDeployerOptions"/>, <see cref="RunFromPackageDeployerOptions"/>,
/// <see cref="ArmConnectorInventoryOptions"/>: ArmEndpoint, SubscriptionId, ResourceGroup, …);
/// <c>Azure:Throttle:Enabled</c> (true by default: every ARM request and deployment is kept under the per-subscription
/// limits, and <c>update --dry-run</c> shows them) and <c>Azure:Throttle:*</c> (<see cref="ArmSubscriptionThrottleOptions"/>);
/// <c>Azure:Gates:HostStatus:Enabled</c>, <c>Azure:Gates:Metrics:Enabled</c> (false by default: the wave gates' health
/// signals) with <c>Azure:Gates:HostStatus:*</c> (<see cref="FunctionsHostStatusSignalOptions"/>) and
/// <c>Azure:Gates:Metrics:*</c> (<see cref="AzureMonitorMetricsSignalOptions"/>), over the <c>Azure:Arm</c> endpoint settings.
/// </remarks>
internal static class AzureProvider
{
    private const string Blobs = "Azure:Blobs";
    private const string BlobLock = Blobs + ":Lock";
    private const string Cosmos = "Azure:Cosmos";
    private const string VersionStore = Cosmos + ":VersionStore";
    private const string Connectors = Cosmos + ":Connectors";
    private const string Arm = "Azure:Arm";
    private const string Throttle = "Azure:Throttle";
    private const string HostStatusGate = "Azure:Gates:HostStatus";
    private const string MetricsGate = "Azure:Gates:Metrics";

    /// <summary>Adds the adapters a command needs.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configuration">The configuration.</param>
    /// <param name="needs">What the command needs.</param>
    /// <exception cref="CliException">A setting is missing or invalid (exit code 2); the message names every one.</exception>
    public static void Add(IIoMTDeploymentBuilder builder, IConfiguration configuration, CommandNeeds needs)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        if (needs == CommandNeeds.LocalFleet)
        {
            throw new CliException(ExitCodes.BadInput, "connectors add and remove manage the local provider's fleet; with --provider azure, connectors come from the Cosmos DB or ARM inventory (Azure:Inventory).");
        }

        var settings = AzureSettings.Read(configuration, needs);
        var services = builder.Services;
        var credential = new Lazy<TokenCredential>(() => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            TenantId = settings.TenantId,
            ManagedIdentityClientId = settings.ManagedIdentityClientId,
        }));
        builder.UseCredential(_ => credential.Value);

        // Each options type is bound from the tool's own section and named by it in validation failures (UseOptionsSection).
        void BindBlobs(BlobArtifactOptions o) => configuration.GetSection(Blobs).Bind(o);
        builder.UseOptionsSection<BlobArtifactOptions>(Blobs);

        // The read side and the lock fail within StoreTimeout when storage is down or silent; the publisher keeps the
        // client's defaults, as an upload's blocks may legitimately take longer than a fraction of it.
        var boundedBlobs = BlobClientTimeouts.Bound(new BlobClientOptions(), settings.StoreTimeout);
        if (needs == CommandNeeds.Publisher)
        {
            // The delivery step gets the write side only, as the pipeline's identity would.
            Composed(() =>
            {
                if (settings.BlobConnectionString is { } cs)
                {
                    builder.AddBlobArtifactPublisher(cs, configure: BindBlobs);
                }
                else
                {
                    builder.AddBlobArtifactPublisher(settings.BlobServiceUri!, configure: BindBlobs);
                }
            });
            return;
        }

        void BindLock(BlobRolloutLockOptions o) => configuration.GetSection(BlobLock).Bind(o);
        builder.UseOptionsSection<BlobRolloutLockOptions>(BlobLock);
        Composed(() =>
        {
            if (settings.BlobConnectionString is { } cs)
            {
                builder.AddBlobArtifacts(cs, boundedBlobs, BindBlobs).AddBlobRolloutLock(cs, boundedBlobs, BindLock);
            }
            else
            {
                builder.AddBlobArtifacts(settings.BlobServiceUri!, boundedBlobs, BindBlobs)
                    .AddBlobRolloutLock(settings.BlobServiceUri!, boundedBlobs, BindLock);
            }
        });

        // One Cosmos client for the version store and the inventory: the adapters take the registered one when AccountEndpoint is not set.
        services.AddSingleton(_ => CreateCosmosClient(settings, credential));
        builder.AddCosmosVersionStore(o =>
        {
            configuration.GetSection(VersionStore).Bind(o);
            o.DatabaseName = settings.CosmosDatabase;
            o.OperationTimeout ??= settings.StoreTimeout;
        }).UseOptionsSection<CosmosVersionStoreOptions>(VersionStore);

        if (settings.Inventory == AzureSettings.ArmInventory)
        {
            builder.AddArmConnectorInventory(o => configuration.GetSection(Arm).Bind(o)).UseOptionsSection<ArmConnectorInventoryOptions>(Arm);
        }
        else
        {
            builder.AddCosmosConnectorInventory(o =>
            {
                configuration.GetSection(Connectors).Bind(o);
                o.DatabaseName = settings.CosmosDatabase;
                o.OperationTimeout ??= settings.StoreTimeout;
            }).UseOptionsSection<CosmosConnectorInventoryOptions>(Connectors);
        }

        if (settings.Deployer == AzureSettings.RunFromPackageDeployer)
        {
            builder.AddRunFromPackageDeployer(o => configuration.GetSection(Arm).Bind(o)).UseOptionsSection<RunFromPackageDeployerOptions>(Arm);
        }
        else
        {
            builder.AddKuduDeployer(o => configuration.GetSection(Arm).Bind(o)).UseOptionsSection<KuduDeployerOptions>(Arm);
        }

        // The gates read the same ARM endpoint as the deployer, then their own sections.
        if (settings.HostStatusGate)
        {
            builder.AddFunctionsHostStatusSignal(o =>
            {
                configuration.GetSection(Arm).Bind(o);
                configuration.GetSection(HostStatusGate).Bind(o);
            }).UseOptionsSection<FunctionsHostStatusSignalOptions>(HostStatusGate);
        }

        if (settings.MetricsGate)
        {
            builder.AddAzureMonitorMetricsSignal(o =>
            {
                configuration.GetSection(Arm).Bind(o);
                configuration.GetSection(MetricsGate).Bind(o);
            }).UseOptionsSection<AzureMonitorMetricsSignalOptions>(MetricsGate);
        }

        // Last, so it wraps the rollout policy and meters every App Service adapter registered above.
        if (settings.Throttle)
        {
            builder.AddArmSubscriptionThrottle(o => configuration.GetSection(Throttle).Bind(o)).UseOptionsSection<ArmSubscriptionThrottleOptions>(Throttle);
        }
    }

    private static CosmosClient CreateCosmosClient(AzureSettings settings, Lazy<TokenCredential> credential)
    {
        // Cross-partition queries (the inventory's listing) need the managed query plan on Linux.
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX") is null)
        {
            Environment.SetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX", "true");
        }

        var options = CosmosClientTimeouts.Bound(
            new CosmosClientOptions { ApplicationName = "iomt-deploy", ConnectionMode = settings.CosmosConnectionMode },
            settings.StoreTimeout);
        var endpoint = settings.CosmosEndpoint!.AbsoluteUri;
        return settings.CosmosAccountKey is { } key
            ? new CosmosClient(endpoint, key, options)
            : new CosmosClient(endpoint, credential.Value, options);
    }

    // The blob adapter builds its client here, at composition, and refuses a malformed connection string without echoing it.
    private static void Composed(Action compose)
    {
        try
        {
            compose();
        }
        catch (ArgumentException ex) when (ex.ParamName == "connectionString")
        {
            throw new CliException(ExitCodes.BadInput, $"{Blobs}:ConnectionString is not a valid storage connection string (AccountName/AccountKey or BlobEndpoint expected).", ex);
        }
    }
}

/// <summary>The Azure provider's own settings, checked before anything is composed so that one message names every missing one.</summary>
internal sealed class AzureSettings
{
    public const string CosmosInventory = "cosmos";
    public const string ArmInventory = "arm";
    public const string KuduDeployer = "kudu";
    public const string RunFromPackageDeployer = "runfrompackage";

    public string? TenantId { get; private init; }

    public string? ManagedIdentityClientId { get; private init; }

    public Uri? BlobServiceUri { get; private init; }

    public string? BlobConnectionString { get; private init; }

    public Uri? CosmosEndpoint { get; private init; }

    public string? CosmosAccountKey { get; private init; }

    public string? CosmosDatabase { get; private init; }

    public ConnectionMode CosmosConnectionMode { get; private init; } = ConnectionMode.Direct;

    public string Inventory { get; private init; } = CosmosInventory;

    public string Deployer { get; private init; } = KuduDeployer;

    /// <summary>Gets a value indicating whether the per-subscription ARM throttle is on (<c>Azure:Throttle:Enabled</c>, default true).</summary>
    public bool Throttle { get; private init; } = true;

    /// <summary>Gets a value indicating whether the Functions host status signal feeds the gates (<c>Azure:Gates:HostStatus:Enabled</c>).</summary>
    public bool HostStatusGate { get; private init; }

    /// <summary>Gets a value indicating whether the Azure Monitor metrics signal feeds the gates (<c>Azure:Gates:Metrics:Enabled</c>).</summary>
    public bool MetricsGate { get; private init; }

    /// <summary>Gets how long a store (Blob Storage, Cosmos DB) may take to answer before the command fails with exit code 6.</summary>
    public TimeSpan StoreTimeout { get; private init; } = DefaultStoreTimeout;

    /// <summary>The default of <c>Azure:StoreTimeout</c>.</summary>
    public static readonly TimeSpan DefaultStoreTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads and checks the settings a command needs.</summary>
    public static AzureSettings Read(IConfiguration configuration, CommandNeeds needs)
    {
        var problems = new List<string>();
        string? Value(string key) => configuration[key] is { Length: > 0 } value ? value.Trim() : null;
        Uri? AbsoluteUri(string key, string example)
        {
            if (Value(key) is not { } text)
            {
                return null;
            }

            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            {
                return uri;
            }

            problems.Add($"{key} ({Env(key)}) must be an absolute URI such as {example}; got '{text}'.");
            return null;
        }

        var settings = new AzureSettings
        {
            TenantId = Value("Azure:TenantId"),
            ManagedIdentityClientId = Value("Azure:ManagedIdentityClientId"),
            BlobServiceUri = AbsoluteUri("Azure:Blobs:ServiceUri", "https://account.blob.core.windows.net"),
            BlobConnectionString = Value("Azure:Blobs:ConnectionString"),
            CosmosEndpoint = AbsoluteUri("Azure:Cosmos:AccountEndpoint", "https://account.documents.azure.com:443/"),
            CosmosAccountKey = Value("Azure:Cosmos:AccountKey"),
            CosmosDatabase = Value("Azure:Cosmos:DatabaseName"),
            CosmosConnectionMode = Choice(configuration, "Azure:Cosmos:ConnectionMode", problems, ("direct", ConnectionMode.Direct), ("gateway", ConnectionMode.Gateway)),
            Inventory = Choice(configuration, "Azure:Inventory", problems, (CosmosInventory, CosmosInventory), (ArmInventory, ArmInventory)),
            Deployer = Choice(configuration, "Azure:Deployer", problems, (KuduDeployer, KuduDeployer), (RunFromPackageDeployer, RunFromPackageDeployer)),
            StoreTimeout = Duration(Value("Azure:StoreTimeout"), "Azure:StoreTimeout", problems),
            Throttle = Choice(configuration, "Azure:Throttle:Enabled", problems, ("true", true), ("false", false)),
            HostStatusGate = Choice(configuration, "Azure:Gates:HostStatus:Enabled", problems, ("false", false), ("true", true)),
            MetricsGate = Choice(configuration, "Azure:Gates:Metrics:Enabled", problems, ("false", false), ("true", true)),
        };

        if (Value("Azure:Blobs:ServiceUri") is not null && settings.BlobConnectionString is not null)
        {
            problems.Add($"Azure:Blobs:ServiceUri and Azure:Blobs:ConnectionString are both set: set one (the connection string is for emulators and local runs).");
        }

        if (settings.BlobServiceUri is null && settings.BlobConnectionString is null && Value("Azure:Blobs:ServiceUri") is null)
        {
            problems.Add($"Azure:Blobs:ServiceUri ({Env("Azure:Blobs:ServiceUri")}) is required: the blob endpoint of the artifact storage account, such as https://account.blob.core.windows.net (or Azure:Blobs:ConnectionString for an emulator).");
        }

        if (needs == CommandNeeds.Engine)
        {
            if (settings.CosmosEndpoint is null && Value("Azure:Cosmos:AccountEndpoint") is null)
            {
                problems.Add($"Azure:Cosmos:AccountEndpoint ({Env("Azure:Cosmos:AccountEndpoint")}) is required: the Cosmos DB account that holds the version state.");
            }

            if (settings.CosmosDatabase is null)
            {
                problems.Add($"Azure:Cosmos:DatabaseName ({Env("Azure:Cosmos:DatabaseName")}) is required: the global database that holds the version state and the connectors.");
            }

            if (settings.Inventory == ArmInventory && Value("Azure:Arm:SubscriptionId") is null)
            {
                problems.Add($"Azure:Arm:SubscriptionId ({Env("Azure:Arm:SubscriptionId")}) is required with Azure:Inventory=arm: the subscription whose Function apps are the connectors.");
            }
        }

        return problems.Count == 0
            ? settings
            : throw new CliException(ExitCodes.BadInput, "The azure provider is not fully configured:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  " + p)));
    }

    private static TimeSpan Duration(string? text, string key, List<string> problems)
    {
        if (text is null)
        {
            return DefaultStoreTimeout;
        }

        if (TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromMinutes(10))
        {
            return value;
        }

        problems.Add($"{key} ({Env(key)}) must be a duration between 00:00:01 and 00:10:00 (hh:mm:ss); got '{text}'.");
        return DefaultStoreTimeout;
    }

    private static T Choice<T>(IConfiguration configuration, string key, List<string> problems, params (string Name, T Value)[] choices)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return choices[0].Value;
        }

        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        problems.Add($"{key} ({Env(key)}) must be {string.Join(" or ", choices.Select(c => c.Name))}; got '{text}'.");
        return choices[0].Value;
    }

    private static string Env(string key) => CliSettings.EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();
}
