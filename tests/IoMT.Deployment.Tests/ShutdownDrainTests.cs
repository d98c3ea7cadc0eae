namespace IoMT.Deployment.Tests;

/// <summary>
/// A rollout whose caller cancels (the worker's host stopping) lets the connector steps already running finish, with
/// their <c>PROJECT_VERSION</c>, and starts no new one; the resumed rollout then deploys nobody twice (issue 13).
/// </summary>
public class ShutdownDrainTests
{
    private static BuildNumber B(string s) => BuildNumber.Parse(s);

    private static EngineHarness Fleet(int connectors, int parallelism)
    {
        var h = new EngineHarness();
        h.Options.MaxParallelism = parallelism;
        h.Artifacts.Add("1").Add("2");
        for (var i = 0; i < connectors; i++)
        {
            h.Fleet.Add($"c{i:00}");
            h.Fleet[$"c{i:00}"].Settings[ProjectVersionSetting.Name] = "1";
        }

        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        return h;
    }

    private static int Deploys(EngineHarness h, string connector) => h.Fleet[connector].Deployments;

    [Fact]
    public async Task A_stop_mid_rollout_finishes_the_running_deployments_starts_no_more_and_the_resumed_rollout_deploys_nobody_twice()
    {
        using var h = Fleet(connectors: 6, parallelism: 2);
        using var stop = new CancellationTokenSource();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        foreach (var id in new[] { "c02", "c03" })
        {
            h.Fleet[id].BeforeDeploy = async () =>
            {
                if (Interlocked.Increment(ref inFlight) == 2)
                {
                    running.TrySetResult();
                }

                await release.Task;
            };
        }

        // Like a real deployer, it gives up (and writes no PROJECT_VERSION) once its token is cancelled.
        h.Deployer = new CancellationAwareDeployer(h.Fleet, release);

        var update = h.Engine().UpdateAsync(cancellationToken: stop.Token);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        Assert.False(update.IsCompleted, "the rollout must wait for the deployments it is running");
        release.TrySetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update);

        // c00 and c01 were done before the stop; c02 and c03 were running and finished with their PROJECT_VERSION; c04 and c05 never started.
        Assert.All(new[] { "c00", "c01", "c02", "c03" }, id => Assert.Equal("2", h.Fleet[id].Settings[ProjectVersionSetting.Name]));
        Assert.All(new[] { "c04", "c05" }, id => Assert.Equal(0, Deploys(h, id)));
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal(B("2"), h.Versions.State.InFlight);

        h.Fleet["c02"].BeforeDeploy = null;
        h.Fleet["c03"].BeforeDeploy = null;
        var resumed = await h.Engine().UpdateAsync();

        Assert.True(resumed.Succeeded);
        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.All(Enumerable.Range(0, 6), i => Assert.Equal(1, Deploys(h, $"c{i:00}")));
    }

    [Fact]
    public async Task A_running_deployment_that_outlasts_the_drain_is_cancelled_when_it_runs_out()
    {
        using var h = Fleet(connectors: 2, parallelism: 1);
        h.Options.ShutdownDrainTimeout = TimeSpan.FromSeconds(20);
        using var stop = new CancellationTokenSource();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Fleet["c00"].BeforeDeploy = async () =>
        {
            running.TrySetResult();
            await hung.Task;
        };
        var deployer = new CancellationAwareDeployer(h.Fleet, hung);
        h.Deployer = deployer;

        var update = h.Engine().UpdateAsync(cancellationToken: stop.Token);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        h.Time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(update.IsCompleted, "the drain has not run out yet");

        h.Time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(deployer.SawCancellation);
        Assert.Equal(0, Deploys(h, "c01"));
    }

    /// <summary>Passes calls to the fleet and honours cancellation as a real deployer does: a cancelled token ends a hung deployment and writes no setting.</summary>
    private sealed class CancellationAwareDeployer(FakeFleet fleet, TaskCompletionSource hung) : IConnectorDeployer
    {
        public bool SawCancellation { get; private set; }

        public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
        {
            await using var registration = cancellationToken.Register(() =>
            {
                SawCancellation = true;
                hung.TrySetCanceled(cancellationToken);
            });
            await fleet.DeployAsync(connector, package, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
        }

        public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return fleet.SetProjectVersionAsync(connector, build, cancellationToken);
        }

        public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default) =>
            fleet.GetProjectVersionAsync(connector, cancellationToken);
    }
}
