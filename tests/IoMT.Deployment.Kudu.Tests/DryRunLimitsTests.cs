using System.Runtime.CompilerServices;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>The engine's plan with the Kudu deployer and the subscription throttle, against the loopback host: per-subscription cost, nothing changed.</summary>
[Collection(AppServiceHostCollection.Name)]
public sealed class DryRunLimitsTests(AppServiceHostFixture fixture) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "iomt-kudu-dryrun-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task A_plan_counts_connectors_and_arm_requests_per_subscription_and_changes_nothing()
    {
        var host = fixture.Host;
        var (first, second) = (NewSubscription(), NewSubscription());
        var apps = Enumerable.Range(0, 3).Select(i => host.AddApp(first, "rg-dry", $"dry-a{i}-{Guid.NewGuid():N}"[..20], settings: new Dictionary<string, string> { [ProjectVersionSetting.Name] = "1" }))
            .Concat(Enumerable.Range(0, 2).Select(i => host.AddApp(second, "rg-dry", $"dry-b{i}-{Guid.NewGuid():N}"[..20], settings: new Dictionary<string, string> { [ProjectVersionSetting.Name] = "1" })))
            .ToList();
        var current = host.AddApp(second, "rg-dry", $"dry-c-{Guid.NewGuid():N}"[..20], settings: new Dictionary<string, string> { [ProjectVersionSetting.Name] = "2" });
        var connectors = apps.Append(current).Select(a => new ConnectorTarget(a.Name, a.ResourceId)).ToList();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIoMTDeployment(o =>
            {
                o.MaxParallelism = 10;
                o.EstimatedConnectorTime = TimeSpan.FromSeconds(30);
            })
            .AddLocalProvider(o => o.Root = _root)
            .AddLocalArtifactPublisher()
            .UseCredential(host.Credential)
            .AddKuduDeployer(o => Configure(o, host))
            .ReplaceSeam<IConnectorInventory, FixedInventory>(_ => new FixedInventory(connectors))

            // Two concurrent deployments per subscription and a write bucket of 4 refilling 1/s: the limits, not the parallelism, bound the plan.
            .AddArmSubscriptionThrottle(o =>
            {
                o.MaxConcurrentDeploymentsPerSubscription = 2;
                o.WriteBurst = 4;
                o.WriteRefillPerSecond = 1;
            });
        await using var provider = services.BuildServiceProvider();
        var package = Package("2");
        await provider.GetRequiredService<DeliveryService>().DeliverAsync(package.Build, package.Content.ToArray());
        var engine = provider.GetRequiredService<IRolloutEngine>();

        var plan = await engine.PlanUpdateAsync();

        Assert.Equal(5, plan.Connectors.Count(c => c.Action == PlannedAction.Deploy));
        var limits = Assert.IsType<DeploymentLimitEstimate>(plan.Limits);
        var bySubscription = limits.Scopes.ToDictionary(s => s.Scope);
        Assert.Equal(2, bySubscription.Count);

        // first: 3 connectors -> 12 writes, 3 reads; (12 - 4) / 1 = 8 s. second: 2 to deploy (one is current) -> 8 writes, 2 reads; 4 s.
        Assert.Equal((3, 12L, 3L, 8.0, 2), Summary(bySubscription[first]));
        Assert.Equal((2, 8L, 2L, 4.0, 2), Summary(bySubscription[second]));

        // One wave: parallelism alone gives 1 round of 30 s; the first subscription's 2 concurrent slots need 2 rounds, 60 s.
        Assert.Equal(TimeSpan.FromSeconds(60), plan.EstimatedDuration);

        // Nothing changed: no deployment, no settings write, every version as it was.
        Assert.All(apps.Append(current), app =>
        {
            Assert.Equal(0, app.ZipDeployCount);
            Assert.Equal(0, app.SettingsWriteCount);
        });
        Assert.All(apps, app => Assert.Equal("1", app.Settings[ProjectVersionSetting.Name]));
        Assert.Null((await provider.GetRequiredService<IVersionStore>().ReadAsync()).State.Current);
    }

    private static (int, long, long, double, int) Summary(LimitScopeEstimate scope) =>
        (scope.Connectors, scope.Writes, scope.Reads, Math.Round(scope.Duration.TotalSeconds, 3), scope.MaxConcurrentDeployments);

    private sealed class FixedInventory(IReadOnlyList<ConnectorTarget> connectors) : IConnectorInventory
    {
        public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var connector in connectors)
            {
                await Task.Yield();
                yield return connector;
            }
        }

        public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) =>
            Task.FromResult(connectors.Any(c => c.Id == connectorId));
    }
}
