namespace IoMT.Deployment.Tests;

/// <summary>
/// A rollout whose build is invalidated while it runs stops starting deployments within one state-watch interval
/// (issue 10, defect 1), and a rollback issued while a rollout holds the lock stops it and then runs.
/// </summary>
public class RolloutStopTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static BuildNumber B(string s) => BuildNumber.Parse(s);

    private static EngineHarness Fleet(int connectors, int parallelism)
    {
        var h = new EngineHarness();
        h.Options.MaxParallelism = parallelism;
        h.Options.StateWatchInterval = Interval;
        h.Artifacts.Add("1").Add("2");
        for (var i = 0; i < connectors; i++)
        {
            h.Fleet.Add($"c{i:00}");
            h.Fleet[$"c{i:00}"].Settings[ProjectVersionSetting.Name] = "1";
        }

        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        return h;
    }

    private static int DeploysOf(EngineHarness h, string build)
    {
        lock (h.Fleet.Calls)
        {
            return h.Fleet.Calls.Count(c => c.StartsWith("deploy ", StringComparison.Ordinal) && c.EndsWith(" " + build, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Invalidating_the_target_mid_rollout_stops_every_deployment_not_yet_started()
    {
        using var h = Fleet(connectors: 10, parallelism: 1);
        var operatorEngine = h.Engine();
        h.Fleet["c02"].BeforeDeploy = async () =>
        {
            await operatorEngine.InvalidateAsync(B("2"), "devices drop messages", "alice");
            h.Time.Advance(Interval);
        };

        var report = await h.Engine().UpdateAsync();

        // c00 and c01 were done, c02's deployment was in progress and finished; nothing after it started.
        Assert.Equal(3, DeploysOf(h, "2"));
        Assert.Equal(3, report.Count(ConnectorOutcome.Updated));
        Assert.Equal(7, report.Count(ConnectorOutcome.Stopped));
        Assert.All(report.Connectors.Where(c => c.Outcome == ConnectorOutcome.Stopped), c => Assert.Equal("1", h.Fleet[c.Connector.Id].Settings[ProjectVersionSetting.Name]));
        Assert.False(report.Succeeded);
        Assert.NotNull(report.StopReason);
        Assert.Contains("build 2 was invalidated", report.StopReason, StringComparison.Ordinal);
        Assert.Contains("alice", report.StopReason, StringComparison.Ordinal);
        Assert.Contains("devices drop messages", report.StopReason, StringComparison.Ordinal);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal(7, h.Versions.History[0].Counts["Stopped"]);
        Assert.False(h.Versions.History[0].Succeeded);
        var stopped = Assert.Single(h.LogsWithId(1040));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, stopped.Level);
    }

    [Fact]
    public async Task With_parallel_deployments_none_starts_after_the_invalidation_is_one_interval_old()
    {
        using var h = Fleet(connectors: 40, parallelism: 4);
        var operatorEngine = h.Engine();
        var deploysAtStop = -1;
        h.Fleet["c10"].BeforeDeploy = async () =>
        {
            await operatorEngine.InvalidateAsync(B("2"), "bad build", "alice");
            h.Time.Advance(Interval);
            deploysAtStop = DeploysOf(h, "2");
        };

        var report = await h.Engine().UpdateAsync();

        Assert.True(deploysAtStop > 0);
        Assert.Equal(deploysAtStop, DeploysOf(h, "2"));
        Assert.Equal(40 - deploysAtStop, report.Count(ConnectorOutcome.Stopped));
        Assert.Equal(deploysAtStop, report.Count(ConnectorOutcome.Updated));
        Assert.Equal(0, report.Count(ConnectorOutcome.Failed));
    }

    [Fact]
    public async Task The_watch_reads_the_state_once_per_interval_not_once_per_connector()
    {
        using var h = Fleet(connectors: 200, parallelism: 8);
        var readsBefore = 0;
        h.Versions.BeforeWrite = store => readsBefore = store.Reads;

        var report = await h.Engine().UpdateAsync();

        Assert.True(report.Succeeded);
        Assert.Equal(200, report.Count(ConnectorOutcome.Updated));

        // The clock never moved, so the watch never needed a fresh read: the reads are the engine's own few.
        Assert.True(h.Versions.Reads - readsBefore <= 4, $"{h.Versions.Reads - readsBefore} reads of the version state for 200 connectors");
    }

    [Fact]
    public async Task A_state_unreadable_for_three_intervals_stops_the_rollout()
    {
        using var h = Fleet(connectors: 10, parallelism: 1);
        var steps = 0;
        foreach (var id in Enumerable.Range(0, 10).Select(i => $"c{i:00}"))
        {
            h.Fleet[id].BeforeDeploy = () =>
            {
                if (++steps == 2)
                {
                    h.Versions.FailReads = true;
                }

                h.Time.Advance(Interval);
                return Task.CompletedTask;
            };
        }

        var report = await h.Engine().UpdateAsync();

        Assert.NotNull(report.StopReason);
        Assert.Contains("could not be read", report.StopReason, StringComparison.Ordinal);
        Assert.True(report.Count(ConnectorOutcome.Stopped) >= 5, $"{report.Count(ConnectorOutcome.Stopped)} stopped");
        Assert.NotEmpty(h.LogsWithId(1041));
    }

    [Fact]
    public async Task A_rollback_while_an_update_holds_the_lock_stops_it_then_restores_the_connectors_it_reached()
    {
        using var h = Fleet(connectors: 10, parallelism: 1);
        var operatorEngine = h.Engine();
        Task<RolloutReport>? rollback = null;
        h.Fleet["c03"].BeforeDeploy = async () =>
        {
            if (rollback is not null)
            {
                // The rollback's own deployment of build 1 to c03.
                return;
            }

            rollback = operatorEngine.RollbackAsync(new RollbackRequest("canary alerts", "bob"));
            await h.Versions.WhenAsync(s => s.IsInvalidated(B("2")));
            h.Time.Advance(Interval);
        };

        var update = await h.Engine().UpdateAsync();

        Assert.NotNull(update.StopReason);
        Assert.Equal(4, update.Count(ConnectorOutcome.Updated));
        Assert.Equal(6, update.Count(ConnectorOutcome.Stopped));
        Assert.NotNull(rollback);

        // The update released the lock: the waiting rollback takes it at its next poll. It found the lock held (its first
        // try came before it invalidated build 2, while c03 deployed) and said so once, before it waited.
        var restored = await Pump(h, rollback!);
        Assert.Single(h.LogsWithId(1042));

        // Exactly the four connectors that received build 2 are restored; the six the stop spared are not touched.
        Assert.True(restored.Succeeded);
        Assert.Equal(RolloutKind.Rollback, restored.Kind);
        Assert.Equal(4, restored.Count(ConnectorOutcome.RolledBack));
        Assert.Equal(4, restored.Connectors.Count);
        Assert.Equal(RolloutStatus.RolledBack, restored.Rollout?.Status);
        Assert.Equal(B("1"), h.Versions.State.Current);
        var invalidation = Assert.Single(h.Versions.State.Invalidated);
        Assert.Equal(B("2"), invalidation.Build);
        Assert.Equal("bob", invalidation.Actor);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal("1", h.Fleet[$"c{i:00}"].Settings[ProjectVersionSetting.Name]));
    }

    [Fact]
    public async Task A_rollback_that_gets_no_lock_in_time_says_so_and_leaves_the_build_invalidated()
    {
        using var h = Fleet(connectors: 3, parallelism: 1);
        h.Options.RollbackLockWait = TimeSpan.FromSeconds(10);
        h.Versions.Set(VersionState.Empty with { Current = B("1"), InFlight = B("2") });
        await using var held = await h.Lock.TryAcquireAsync("someone else");

        var ex = await Assert.ThrowsAsync<RolloutLockHeldException>(() => Pump(h, h.Engine().RollbackAsync(new RollbackRequest("bad", "bob"))));

        Assert.Contains("after 0:00:10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Build 2 is invalidated", ex.Message, StringComparison.Ordinal);
        Assert.True(h.Versions.State.IsInvalidated(B("2")));
        Assert.Empty(h.Fleet.Calls);
    }

    [Fact]
    public async Task A_rollback_that_cannot_run_changes_nothing_even_while_the_lock_is_held()
    {
        using var h = Fleet(connectors: 3, parallelism: 1);
        h.Versions.Set(VersionState.Empty with { Current = B("1"), InFlight = B("2") });
        await using var held = await h.Lock.TryAcquireAsync("someone else");
        var writes = h.Versions.Writes;

        await Assert.ThrowsAsync<ArgumentException>(() => h.Engine().RollbackAsync(new RollbackRequest("bad", "bob", To: B("2"))));
        await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().RollbackAsync(new RollbackRequest("bad", "bob", To: B("7"))));

        Assert.Equal(writes, h.Versions.Writes);
        Assert.False(h.Versions.State.IsInvalidated(B("2")));
    }

    // Moves the fake clock a second at a time until the task ends (the rollback polls the lock on the clock).
    private static async Task<T> Pump<T>(EngineHarness h, Task<T> task)
    {
        for (var i = 0; i < 600 && !task.IsCompleted; i++)
        {
            await Task.WhenAny(task, Task.Delay(20));
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }

        return await task;
    }
}
