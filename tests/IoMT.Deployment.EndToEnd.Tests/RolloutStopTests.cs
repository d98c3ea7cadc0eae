using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>
/// Issue 10, defect 1, on the real servers: an invalidation stored (in Cosmos DB) while a worker rolls the build out stops
/// that worker's deployments within its state-watch interval, and a rollback then restores what it reached.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class RolloutStopTests(TestServersFixture servers)
{
    private const string ProjectVersion = ProjectVersionSetting.Name;
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    // Between the watch's read and the zip deploy's arrival at the host lies one PROJECT_VERSION read over ARM.
    private static readonly TimeSpan RequestMargin = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task An_invalidation_stored_while_an_update_runs_stops_its_deployments_and_a_rollback_restores_what_it_reached()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(16);
        var worker = world.CreateWorker(o =>
        {
            o.MaxParallelism = 2;
            o.StateWatchInterval = WatchInterval;
        }).GetRequiredService<IRolloutEngine>();
        Assert.True((await worker.UpdateAsync()).Succeeded);
        await world.DeliverAsync(delivery, "2");
        foreach (var app in apps)
        {
            app.Faults.HoldDeployments();
        }

        // Build 2's first two deployments (the parallelism) are held while they run: the invalidation certainly lands
        // while the update is under way, whatever the machine's speed.
        var firstRolloutDeploys = world.ZipDeploys(apps);
        var update = worker.UpdateAsync();
        await world.Host.WaitUntilAsync(() => world.ZipDeploys(apps) >= firstRolloutDeploys + 2, "two deployments of build 2 run", TimeSpan.FromSeconds(30));
        var operatorEngine = world.CreateWorker().GetRequiredService<IRolloutEngine>();
        Assert.True(await operatorEngine.InvalidateAsync(BuildNumber.Parse("2"), "canary alerts", "alice"));
        var invalidatedAt = DateTimeOffset.UtcNow;
        Assert.False(update.IsCompleted, "the update waits for its held deployments");
        foreach (var app in apps)
        {
            app.Faults.ReleaseDeployments();
        }

        var report = await update;

        var names = apps.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var late = world.Host.RequestLog.Count(r => r.Route == AppServiceRoute.ZipDeploy && r.App is { } app && names.Contains(app) && r.At > invalidatedAt + WatchInterval + RequestMargin);
        Assert.Equal(0, late);
        Assert.False(report.Succeeded);
        Assert.NotNull(report.StopReason);
        Assert.Contains("alice", report.StopReason, StringComparison.Ordinal);
        var stopped = report.Count(ConnectorOutcome.Stopped);
        var updated = report.Count(ConnectorOutcome.Updated);
        Assert.True(stopped >= 8, $"{stopped} stopped, {updated} updated");
        Assert.Equal(16, stopped + updated);
        Assert.Equal(updated, apps.Count(a => a.Settings[ProjectVersion] == "2"));
        var state = await world.ReadStoredStateAsync();
        Assert.Equal("1", state.Current);
        Assert.Contains("2", state.Invalidated);

        var rollback = await worker.RollbackAsync(new RollbackRequest("canary alerts", "alice"));

        Assert.True(rollback.Succeeded);
        Assert.Equal(updated, rollback.Count(ConnectorOutcome.RolledBack));
        Assert.Equal(RolloutStatus.RolledBack, rollback.Rollout?.Status);
        Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersion]));
        Assert.Equal(RolloutKind.Straggler, (await worker.UpdateAsync()).Kind);
    }
}
