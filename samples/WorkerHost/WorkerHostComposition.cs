using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using IoMT.Deployment.Blobs;
using IoMT.Deployment.Cosmos;
using IoMT.Deployment.Kudu;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IoMT.Deployment.WorkerHost;

/// <summary>
/// Composes the update worker host from configuration only (<c>appsettings.json</c>, then environment variables such as
/// <c>IoMTDeployment__Azure__Blobs__ServiceUri</c>): the engine, the local provider or the Azure adapters, the hourly
/// <see cref="UpdateWorker"/>, health checks and OpenTelemetry. Kept as two calls so a host can add its own services and
/// endpoints (an operations console, say) between them.
/// </summary>
/// <remarks>
/// Keys: <c>IoMTDeployment:Provider</c> (<c>local</c> or <c>azure</c>), <c>IoMTDeployment:Rollout:*</c>
/// (<see cref="RolloutOptions"/>), <c>IoMTDeployment:Worker:*</c> (<see cref="UpdateWorkerOptions"/>),
/// <c>IoMTDeployment:Local:*</c> (<see cref="LocalProviderOptions"/>) and <c>IoMTDeployment:Azure:*</c> (the same keys as
/// the CLI's <c>Azure</c> section: <c>TenantId</c>, <c>ManagedIdentityClientId</c>, <c>Blobs:ServiceUri</c> or
/// <c>Blobs:ConnectionString</c>, <c>Blobs:ContainerName</c>, <c>Blobs:Lock:*</c>, <c>Cosmos:AccountEndpoint</c>,
/// <c>Cosmos:AccountKey</c> (emulators only), <c>Cosmos:DatabaseName</c>, <c>Cosmos:ConnectionMode</c>,
/// <c>Cosmos:LimitToEndpoint</c>, <c>Inventory</c>, <c>Deployer</c>, <c>Arm:*</c>). The worker's composition registers no
/// artifact publisher: its identity only reads the artifact container.
/// OpenTelemetry: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OpenTelemetry:OtlpEndpoint</c>) switches from the console
/// exporter to OTLP; <c>OTEL_METRIC_EXPORT_INTERVAL</c> (milliseconds) sets how often metrics are exported.
/// </remarks>
public static class WorkerHostComposition
{
    /// <summary>The configuration section of IoMT.Deployment.</summary>
    public const string Section = "IoMTDeployment";

    /// <summary>The path of the health endpoint.</summary>
    public const string HealthPath = "/healthz";

    /// <summary>The service name reported to OpenTelemetry.</summary>
    public const string ServiceName = "iomt-update-worker";

    /// <summary>Adds the worker, its adapters, health checks and telemetry to the host.</summary>
    /// <param name="builder">The web application builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">A setting is missing or invalid; the message names it.</exception>
    public static WebApplicationBuilder AddWorkerHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        // Each options type is bound from a section under IoMTDeployment and that section is named with UseOptionsSection
        // (the worker's is its convention section), so a start-up failure names the key this host reads:
        // IoMTDeployment:Azure:Arm:PollInterval, not the Kudu options' own IoMTDeployment:Kudu:PollInterval.
        var rollout = configuration.GetSection(Section + ":Rollout");
        var deployment = builder.Services.AddIoMTDeployment(o => rollout.Bind(o)).UseOptionsSection<RolloutOptions>(rollout.Path);
        var provider = configuration[Section + ":Provider"] is { Length: > 0 } p ? p.Trim() : "local";
        if (string.Equals(provider, "azure", StringComparison.OrdinalIgnoreCase))
        {
            AzureWorker.Add(deployment, configuration.GetSection(Section + ":Azure"));
        }
        else if (string.Equals(provider, "local", StringComparison.OrdinalIgnoreCase))
        {
            var local = configuration.GetSection(Section + ":Local");
            deployment.AddLocalProvider(o => local.Bind(o)).UseOptionsSection<LocalProviderOptions>(local.Path);
            builder.Services.AddSingleton<RolloutLockProbe>(sp =>
            {
                var root = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LocalProviderOptions>>().Value.Root;
                return new RolloutLockProbe(_ => Task.FromResult(Directory.Exists(root)
                    ? HealthCheckResult.Healthy("The local provider's folder exists.")
                    : HealthCheckResult.Degraded($"The local provider's folder '{root}' does not exist yet.")));
            });
        }
        else
        {
            throw new InvalidOperationException($"{Section}:Provider must be local or azure; got '{provider}'.");
        }

        deployment.AddUpdateWorker(o => configuration.GetSection(UpdateWorkerOptions.SectionName).Bind(o));

        // On SIGTERM the running connector steps drain (RolloutOptions.ShutdownDrainTimeout): give the host longer than that to stop.
        builder.Services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<RolloutOptions>>((host, rollout) =>
        {
            var needed = rollout.Value.ShutdownDrainTimeout + TimeSpan.FromSeconds(10);
            host.ShutdownTimeout = needed > host.ShutdownTimeout ? needed : host.ShutdownTimeout;
        });

        var timeout = TimeSpan.FromSeconds(10);
        builder.Services.AddHealthChecks()
            .AddCheck<VersionStoreHealthCheck>("version-store", timeout: timeout)
            .AddCheck<ArtifactContainerHealthCheck>("artifact-container", timeout: timeout)
            .AddCheck<RolloutLockHealthCheck>("rollout-lock", timeout: timeout)
            .AddCheck<LastUpdateRunHealthCheck>("last-update-run", timeout: timeout);

        AddTelemetry(builder);

        // The operator console (authenticated API + dashboard) when its section names an audience: Entra ID tokens,
        // reader and operator app roles (see the README's "Operator console").
        if (ConsoleEnabled(configuration))
        {
            builder.Services.AddIoMTOperations(configuration);
        }

        return builder;
    }

    /// <summary>The path the operator console is mapped under, when <c>IoMTOperations:Audience</c> is set.</summary>
    public const string ConsolePath = "/operations";

    private static bool ConsoleEnabled(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[IoMT.Deployment.Operations.OperationsOptions.SectionName + ":Audience"]);

    /// <summary>Maps the health endpoint (<see cref="HealthPath"/>): 200 when healthy or degraded, 503 when unhealthy, with a JSON body per check.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication MapWorkerHost(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        if (ConsoleEnabled(app.Configuration))
        {
            app.MapIoMTOperations(ConsolePath);
        }

        return app;
    }

    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? configuration["OpenTelemetry:OtlpEndpoint"];
        var interval = int.TryParse(configuration["OTEL_METRIC_EXPORT_INTERVAL"], System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0 ? ms : 60_000;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithMetrics(m =>
            {
                m.AddMeter(DeploymentTelemetry.Name);
                if (otlp is null)
                {
                    m.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval);
                }
            })
            .WithTracing(t =>
            {
                t.AddSource(DeploymentTelemetry.Name);
                if (otlp is null)
                {
                    t.AddConsoleExporter();
                }
            });
        if (otlp is not null)
        {
            telemetry.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, new Uri(otlp));
        }
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>Checks that the rollout lock's store answers, without taking the lock.</summary>
/// <param name="probe">The check.</param>
public sealed class RolloutLockProbe(Func<CancellationToken, Task<HealthCheckResult>> probe)
{
    /// <summary>Runs the check.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The result.</returns>
    public Task<HealthCheckResult> CheckAsync(CancellationToken cancellationToken) => probe(cancellationToken);
}

/// <summary>Composes the Azure adapters of the worker: the read side of Blob Storage, the Blob lease, Cosmos DB and App Service.</summary>
internal static class AzureWorker
{
    public static void Add(IIoMTDeploymentBuilder builder, IConfigurationSection azure)
    {
        string? Value(string key) => azure[key] is { Length: > 0 } v ? v.Trim() : null;
        string Required(string key, string what) => Value(key)
            ?? throw new InvalidOperationException($"{azure.Path}:{key} is required with {WorkerHostComposition.Section}:Provider=azure: {what}.");

        var services = builder.Services;
        var credential = new Lazy<TokenCredential>(() => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            TenantId = Value("TenantId"),
            ManagedIdentityClientId = Value("ManagedIdentityClientId"),
        }));
        builder.UseCredential(_ => credential.Value);

        // Each adapter's options are bound from their section under IoMTDeployment:Azure, which validation failures name.
        var blobs = azure.GetSection("Blobs");
        var blobLock = azure.GetSection("Blobs:Lock");
        var arm = azure.GetSection("Arm");
        void BindBlobs(BlobArtifactOptions o) => blobs.Bind(o);
        void BindLock(BlobRolloutLockOptions o) => blobLock.Bind(o);
        builder.UseOptionsSection<BlobArtifactOptions>(blobs.Path)
            .UseOptionsSection<BlobRolloutLockOptions>(blobLock.Path)
            .UseOptionsSection<KuduDeployerOptions>(arm.Path)
            .UseOptionsSection<RunFromPackageDeployerOptions>(arm.Path)
            .UseOptionsSection<ArmConnectorInventoryOptions>(arm.Path);
        var lockContainer = blobLock["ContainerName"] is { Length: > 0 } lc ? lc : BlobRolloutLockOptions.DefaultContainerName;
        BlobServiceClient lockService;
        if (Value("Blobs:ConnectionString") is { } connectionString)
        {
            builder.AddBlobArtifacts(connectionString, configure: BindBlobs).AddBlobRolloutLock(connectionString, configure: BindLock);
            lockService = new BlobServiceClient(connectionString);
        }
        else
        {
            var serviceUri = new Uri(Required("Blobs:ServiceUri", "the blob endpoint of the artifact storage account, such as https://account.blob.core.windows.net"));
            builder.AddBlobArtifacts(serviceUri, configure: BindBlobs).AddBlobRolloutLock(serviceUri, configure: BindLock);
            lockService = new BlobServiceClient(serviceUri, credential.Value);
        }

        var lockClient = lockService.GetBlobContainerClient(lockContainer);
        services.AddSingleton(new RolloutLockProbe(async ct =>
        {
            // A read of the lock container's properties: the lease itself is never taken by a health check.
            var exists = await lockClient.ExistsAsync(ct).ConfigureAwait(false);
            return exists.Value
                ? HealthCheckResult.Healthy("The lock container answers.")
                : HealthCheckResult.Degraded("The lock container does not exist yet; the first run creates it.");
        }));

        var endpoint = Required("Cosmos:AccountEndpoint", "the Cosmos DB account that holds the version state");
        var database = Required("Cosmos:DatabaseName", "the global database that holds the version state and the connectors");
        var gateway = string.Equals(Value("Cosmos:ConnectionMode"), "gateway", StringComparison.OrdinalIgnoreCase);
        var limitToEndpoint = bool.TryParse(Value("Cosmos:LimitToEndpoint"), out var limit) && limit;
        var accountKey = Value("Cosmos:AccountKey");
        services.AddSingleton(_ =>
        {
            // Cross-partition queries (the inventory's listing) need the managed query plan on Linux.
            if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX") is null)
            {
                Environment.SetEnvironmentVariable("AZURE_COSMOS_USE_QUERY_PLAN_INTEROP_LINUX", "true");
            }

            var options = new CosmosClientOptions
            {
                ApplicationName = WorkerHostComposition.ServiceName,
                ConnectionMode = gateway ? ConnectionMode.Gateway : ConnectionMode.Direct,
                LimitToEndpoint = limitToEndpoint,
            };
            return accountKey is not null ? new CosmosClient(endpoint, accountKey, options) : new CosmosClient(endpoint, credential.Value, options);
        });
        var versionStore = azure.GetSection("Cosmos:VersionStore");
        builder.AddCosmosVersionStore(o =>
        {
            versionStore.Bind(o);
            o.DatabaseName = database;
        }).UseOptionsSection<CosmosVersionStoreOptions>(versionStore.Path);

        if (string.Equals(Value("Inventory"), "arm", StringComparison.OrdinalIgnoreCase))
        {
            builder.AddArmConnectorInventory(o => arm.Bind(o));
        }
        else
        {
            var connectors = azure.GetSection("Cosmos:Connectors");
            builder.AddCosmosConnectorInventory(o =>
            {
                connectors.Bind(o);
                o.DatabaseName = database;
            }).UseOptionsSection<CosmosConnectorInventoryOptions>(connectors.Path);
        }

        if (string.Equals(Value("Deployer"), "runfrompackage", StringComparison.OrdinalIgnoreCase))
        {
            builder.AddRunFromPackageDeployer(o => arm.Bind(o));
        }
        else
        {
            builder.AddKuduDeployer(o => arm.Bind(o));
        }
    }
}
