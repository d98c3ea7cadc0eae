using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using IoMT.Deployment.Loopback;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IoMT.Deployment.ProcessTests;

/// <summary>
/// samples/WorkerHost as a real process over Azurite, cosmosdb-server and the loopback App Service host, signed in with the
/// App Service managed identity: one rollout, /healthz, the console-exported metrics, then SIGTERM in the middle of the
/// next rollout and a restart that finishes it.
/// </summary>
[Collection(ProcessServersCollection.Name)]
public sealed class WorkerHostProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly AzureProcessServers _servers;
    private readonly ITestOutputHelper _output;
    private readonly string _folder = Directory.CreateTempSubdirectory("iomt-worker-host-").FullName;
    private readonly string _database = "wh-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _container = "wh-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _subscription = Guid.NewGuid().ToString();
    private ServiceProvider? _delivery;

    public WorkerHostProcessTests(AzureProcessServers servers, ITestOutputHelper output)
    {
        _servers = servers;
        _output = output;
    }

    private string LockContainer => _container + "-lock";

    public Task InitializeAsync()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment().AddBlobArtifactPublisher(_servers.StorageConnectionString, configure: o =>
        {
            o.ContainerName = _container;
            o.CreateIfMissing = true;
        });
        _delivery = services.BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_delivery is not null)
        {
            await _delivery.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private async Task DeliverAsync(string build)
    {
        var folder = Path.Combine(_folder, "build" + build);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "host.json"), "{\"version\":\"2.0\"}");
        await File.WriteAllTextAsync(Path.Combine(folder, "code.txt"), "connector code of build " + build);
        var result = await _delivery!.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse(build), await DeterministicPackager.PackageAsync(folder));
        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
    }

    private (RunningProcess Process, Uri Health) StartHost()
    {
        var port = FreePort.Next();
        var environment = _servers.ProcessEnvironment();
        environment["Urls"] = $"http://127.0.0.1:{port}";
        environment["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
        environment["IoMTDeployment__Provider"] = "azure";
        environment["IoMTDeployment__Worker__InitialDelay"] = "00:00:00";
        environment["IoMTDeployment__Worker__Period"] = "00:00:02";
        environment["IoMTDeployment__Worker__ActivePeriod"] = "00:00:02";
        environment["IoMTDeployment__Rollout__MaxParallelism"] = "1";
        environment["IoMTDeployment__Azure__Blobs__ConnectionString"] = _servers.StorageConnectionString;
        environment["IoMTDeployment__Azure__Blobs__ContainerName"] = _container;
        environment["IoMTDeployment__Azure__Blobs__Lock__ContainerName"] = LockContainer;
        environment["IoMTDeployment__Azure__Cosmos__AccountEndpoint"] = _servers.CosmosEndpoint.AbsoluteUri;
        environment["IoMTDeployment__Azure__Cosmos__AccountKey"] = AzureProcessServers.CosmosAccountKey;
        environment["IoMTDeployment__Azure__Cosmos__DatabaseName"] = _database;
        environment["IoMTDeployment__Azure__Cosmos__ConnectionMode"] = "gateway";
        environment["IoMTDeployment__Azure__Cosmos__LimitToEndpoint"] = "true";
        environment["IoMTDeployment__Azure__Cosmos__VersionStore__CreateIfMissing"] = "true";
        environment["IoMTDeployment__Azure__Arm__ArmEndpoint"] = _servers.Host.ArmEndpoint.AbsoluteUri;
        environment["IoMTDeployment__Azure__Arm__PollInterval"] = "00:00:00.050";
        environment["IoMTDeployment__Azure__Arm__ConflictRetryDelay"] = "00:00:00.500";
        environment["IoMTDeployment__Azure__Arm__ConflictRetryLimit"] = "60";
        environment["IoMTOperations__Authority"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";
        environment["IoMTOperations__Audience"] = "api://iomt-operations-test";
        var process = new RunningProcess(Built.Start(Built.WorkerHost, _folder, environment));
        return (process, new Uri($"http://127.0.0.1:{port}/healthz"));
    }

    private async Task<(string? Current, string? InFlight)> StoredStateAsync()
    {
        var container = _servers.Cosmos.GetDatabase(_database).GetContainer("deployment");
        using var response = await container.ReadItemStreamAsync("version-state", new PartitionKey("version-state"));
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(response.Content);
        string? Text(string name) => document.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return (Text("current"), Text("inFlight"));
    }

    private static Task<string> RolloutFinished(RunningProcess process, string build) =>
        process.WaitForLineAsync(l => l.Contains($"to build {build} finished in", StringComparison.Ordinal) && l.Contains("succeeded: True", StringComparison.Ordinal), Patience);

    [Fact]
    public async Task Runs_a_rollout_reports_health_and_metrics_then_a_SIGTERM_mid_rollout_releases_the_lease_and_a_restart_finishes_it()
    {
        var apps = await _servers.AddConnectorsAsync(_database, _subscription, 4);
        var names = apps.Select(a => a.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        await DeliverAsync("1");

        // First run: one rollout, health, metrics.
        var (first, health) = StartHost();
        await using (first)
        {
            try
            {
                await RolloutFinished(first, "1");
                Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersionSetting.Name]));

                using var http = new HttpClient();
                using var response = await http.GetAsync(health);
                var body = await response.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var report = JsonDocument.Parse(body);
                Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
                var checks = report.RootElement.GetProperty("checks");
                foreach (var check in new[] { "version-store", "artifact-container", "rollout-lock", "last-update-run" })
                {
                    Assert.Equal("Healthy", checks.GetProperty(check).GetProperty("status").GetString());
                }

                // The operator console is mapped when IoMTOperations:Audience is set: liveness is anonymous, data is not.
                var console = new Uri(health, "/operations/");
                using (var live = await http.GetAsync(new Uri(console, "healthz")))
                {
                    Assert.Equal(HttpStatusCode.OK, live.StatusCode);
                }

                using (var status = await http.GetAsync(new Uri(console, "api/status")))
                {
                    Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
                }

                // The console exporter writes the IoMT.Deployment meter's instruments to stdout.
                await first.WaitForLineAsync(l => l.StartsWith("Metric Name: iomt.deployment.connectors,", StringComparison.Ordinal), Patience);
                await first.WaitForLineAsync(l => l.StartsWith("Metric Name: iomt.deployment.rollouts,", StringComparison.Ordinal), Patience);
                Assert.Equal(0, await first.TerminateAsync(Patience));
            }
            finally
            {
                _output.WriteLine(first.Output);
            }
        }

        // Second build: slow every deployment after the first, SIGTERM while the second one runs.
        var phase2 = _servers.Host.RequestLog.Count;
        var accepted = 0;
        var midWave = new TaskCompletionSource<RecordedRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_servers.Host.OnRequest(r =>
        {
            if (r.Route != AppServiceRoute.ZipDeploy || r.StatusCode != 202 || r.App is null || !names.Contains(r.App))
            {
                return;
            }

            if (Interlocked.Increment(ref accepted) == 1)
            {
                // Runs before the worker sees the 202: every later deployment takes long enough to be cut by the stop.
                foreach (var app in apps.Where(a => a.Name != r.App))
                {
                    app.Faults.DeploymentDuration = TimeSpan.FromSeconds(4);
                }
            }
            else
            {
                midWave.TrySetResult(r);
            }
        }))
        {
            await DeliverAsync("2");
            var (second, _) = StartHost();
            await using (second)
            {
                try
                {
                    var interrupted = await midWave.Task.WaitAsync(Patience);
                    Assert.Equal(0, await second.TerminateAsync(Patience));

                    // The lease is released, the state resumable: build 2 in flight, 1 still current.
                    var lease = await _servers.Blobs.GetBlobContainerClient(LockContainer).GetBlobClient("rollout.lock").GetPropertiesAsync();
                    Assert.Equal(LeaseState.Available, lease.Value.LeaseState);
                    Assert.Equal(("1", "2"), await StoredStateAsync());
                    Assert.Contains(apps, a => a.Settings[ProjectVersionSetting.Name] == "1");

                    foreach (var app in apps)
                    {
                        app.Faults.DeploymentDuration = null;
                    }

                    // The next start picks the rollout up and finishes it.
                    var (third, _) = StartHost();
                    await using (third)
                    {
                        try
                        {
                            await RolloutFinished(third, "2");
                            Assert.Equal(0, await third.TerminateAsync(Patience));
                        }
                        finally
                        {
                            _output.WriteLine(third.Output);
                        }
                    }

                    Assert.All(apps, a => Assert.Equal("2", a.Settings[ProjectVersionSetting.Name]));
                    Assert.Equal(("2", (string?)null), await StoredStateAsync());

                    // No connector that finished before the stop is deployed again. Known gap (samples/WorkerHost/README.md):
                    // the deployment running at SIGTERM is abandoned, so that one connector is deployed a second time.
                    var deploys = _servers.Host.RequestLog.Skip(phase2)
                        .Where(r => r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 202 && r.App is not null && names.Contains(r.App))
                        .GroupBy(r => r.App!, StringComparer.OrdinalIgnoreCase)
                        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
                    foreach (var app in apps)
                    {
                        Assert.Equal(app.Name == interrupted.App ? 2 : 1, deploys.GetValueOrDefault(app.Name));
                    }
                }
                finally
                {
                    _output.WriteLine(second.Output);
                }
            }
        }
    }
}
