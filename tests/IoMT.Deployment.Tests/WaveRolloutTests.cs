using System.Text.Json;
using IoMT.Deployment.Local;

namespace IoMT.Deployment.Tests;

/// <summary>Progressive rollouts (issue 11): waves, bake, health gates, halt and restore, operator commands, pins, dry run, resume.</summary>
public class WaveRolloutTests
{
    private static readonly TimeSpan Bake = TimeSpan.FromMinutes(30);
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private static BuildNumber B(string s) => BuildNumber.Parse(s);

    /// <summary>A fleet on build 1 with build 2 delivered; c00 and c01 are canaries; waves canary / 50 % / rest.</summary>
    private static EngineHarness Fleet(int connectors = 10, Action<RolloutOptions>? configure = null)
    {
        var h = new EngineHarness();
        h.Options.MaxParallelism = 2;
        h.Options.Waves.Add(new WaveOptions { Name = "canary", Canary = true, BakeTime = Bake, MaxFailed = 0 });
        h.Options.Waves.Add(new WaveOptions { Name = "half", Percent = 50, BakeTime = Bake, MaxFailedPercent = 20 });
        h.Options.Waves.Add(new WaveOptions { Name = "rest", Percent = 100 });
        configure?.Invoke(h.Options);
        h.Artifacts.Add("1").Add("2");
        for (var i = 0; i < connectors; i++)
        {
            var id = $"c{i:00}";
            h.Fleet.Add(id);
            h.Fleet[id].Canary = i < 2;
            h.Fleet[id].Settings[ProjectVersionSetting.Name] = "1";
        }

        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        return h;
    }

    private static List<string> DeploysOf(EngineHarness h, string build)
    {
        lock (h.Fleet.Calls)
        {
            return [.. h.Fleet.Calls.Where(c => c.StartsWith("deploy ", StringComparison.Ordinal) && c.EndsWith(" " + build, StringComparison.Ordinal)).Select(c => c.Split(' ')[1])];
        }
    }

    private static IEnumerable<string> Ids(int count) => Enumerable.Range(0, count).Select(i => $"c{i:00}");

    [Fact]
    public void The_plan_is_the_same_in_any_listing_order_and_new_connectors_move_no_existing_one()
    {
        var options = new RolloutOptions();
        options.Waves.Add(new WaveOptions { Name = "canary", Canary = true });
        options.Waves.Add(new WaveOptions { Name = "tier", Tag = "tier=free" });
        options.Waves.Add(new WaveOptions { Name = "named", Connectors = { "contoso" } });
        options.Waves.Add(new WaveOptions { Name = "ten", Percent = 10 });
        options.Waves.Add(new WaveOptions { Name = "rest", Percent = 100 });
        var planner = new WavePlanner(options);
        var fleet = Enumerable.Range(0, 5000).Select(i => new ConnectorTarget($"tenant-{i}") { Canary = i % 997 == 0, Tags = i % 13 == 0 ? new Dictionary<string, string> { ["tier"] = "free" } : null }).Append(new ConnectorTarget("contoso")).ToList();
        var assigned = fleet.ToDictionary(c => c.Id, planner.WaveOf);

        var shuffled = fleet.OrderBy(_ => Random.Shared.Next()).ToList();
        Assert.All(shuffled, c => Assert.Equal(assigned[c.Id], planner.WaveOf(c)));
        var grown = shuffled.Concat(Enumerable.Range(0, 50).Select(i => new ConnectorTarget($"new-{i}"))).ToList();
        Assert.All(grown.Where(c => assigned.ContainsKey(c.Id)), c => Assert.Equal(assigned[c.Id], new WavePlanner(options).WaveOf(c)));

        Assert.Equal(0, assigned["tenant-0"]);
        Assert.Equal(1, assigned["tenant-13"]);
        Assert.Equal(2, assigned["contoso"]);
        Assert.True(assigned.Values.Count(w => w == 3) is > 300 and < 600);
    }

    [Fact]
    public void A_five_percent_wave_of_ten_thousand_connectors_holds_500_plus_or_minus_65()
    {
        var options = new RolloutOptions();
        options.Waves.Add(new WaveOptions { Name = "five", Percent = 5 });
        options.Waves.Add(new WaveOptions { Name = "rest", Percent = 100 });
        var planner = new WavePlanner(options);

        var inFirst = Enumerable.Range(0, 10_000).Count(i => planner.WaveOf(new ConnectorTarget($"connector-{i:00000}")) == 0);

        Assert.InRange(inFirst, 435, 565);
    }

    [Fact]
    public async Task Each_tick_deploys_one_wave_then_bakes_and_the_bake_ends_at_its_persisted_time()
    {
        using var h = Fleet();
        var engine = h.Engine();

        var first = await engine.UpdateAsync();

        Assert.Equal(["c00", "c01"], DeploysOf(h, "2").Order());
        var record = first.Rollout!;
        Assert.Equal(RolloutStatus.Baking, record.Status);
        Assert.Equal(0, record.Wave);
        Assert.Equal(h.Time.GetUtcNow() + Bake, record.BakeUntil);
        Assert.Equal(record.BakeUntil, first.NextTickAt);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal(B("2"), h.Versions.State.InFlight);

        h.Time.Advance(Bake - TimeSpan.FromSeconds(1));
        var early = await engine.UpdateAsync();
        Assert.Empty(early.Connectors);
        Assert.Equal(2, DeploysOf(h, "2").Count);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, second.Rollout!.Status);
        Assert.Equal(1, second.Rollout.Wave);
        Assert.Equal(WaveStatus.Passed, second.Rollout.Waves[0].Status);
        Assert.Equal(2, h.Health.Queries.Count);

        h.Time.Advance(Bake);
        var last = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.Completed, last.Rollout!.Status);
        Assert.True(last.Succeeded);
        Assert.Equal(10, DeploysOf(h, "2").Count);
        Assert.Equal(10, DeploysOf(h, "2").Distinct().Count());
        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        Assert.Equal(10, last.Rollout.Waves.Sum(w => w.Updated));
    }

    [Fact]
    public async Task The_gate_names_the_later_waves_unpinned_connectors_as_peers_and_none_of_the_judged_wave()
    {
        using var h = Fleet(connectors: 12);
        var engine = h.Engine();
        await engine.PinAsync("c11", B("1"), "customer freeze", "alice");
        var planner = new WavePlanner(h.Options);
        var waveOf = Ids(12).ToDictionary(id => id, id => planner.WaveOf(new ConnectorTarget(id) { Canary = h.Fleet[id].Canary }));
        Assert.Contains(waveOf.Values, w => w == 1);
        Assert.Contains(waveOf.Values, w => w == 2);

        await engine.UpdateAsync();
        h.Time.Advance(Bake);
        await engine.UpdateAsync();

        var canaryQueries = h.Health.Queries.ToList();
        Assert.Equal(["c00", "c01"], canaryQueries.Select(q => q.Connector.Id).Order());
        var laterThanCanary = waveOf.Where(p => p.Value > 0 && p.Key != "c11").Select(p => p.Key).Order().ToList();
        Assert.All(canaryQueries, q => Assert.Equal(laterThanCanary, q.Peers.Select(c => c.Id)));
        Assert.Same(canaryQueries[0].Peers, canaryQueries[1].Peers);

        h.Time.Advance(Bake);
        await engine.UpdateAsync();

        var laterQueries = h.Health.Queries.Skip(canaryQueries.Count).ToList();
        var half = waveOf.Where(p => p.Value == 1 && p.Key != "c11").Select(p => p.Key).ToHashSet();
        var halfQueries = laterQueries.Where(q => half.Contains(q.Connector.Id)).ToList();
        Assert.Equal(half.Order(), halfQueries.Select(q => q.Connector.Id).Order());
        Assert.All(laterQueries.Except(halfQueries), q => Assert.Empty(q.Peers));
        var rest = waveOf.Where(p => p.Value == 2 && p.Key != "c11").Select(p => p.Key).Order().ToList();
        Assert.All(halfQueries, q => Assert.Equal(rest, q.Peers.Select(c => c.Id)));
        Assert.All(halfQueries, q => Assert.DoesNotContain(q.Peers, c => half.Contains(c.Id)));
    }

    [Fact]
    public async Task The_peers_of_a_large_fleet_are_a_fixed_sample_of_at_most_fifty()
    {
        using var h = Fleet(connectors: 100);
        var engine = h.Engine();

        await engine.UpdateAsync();
        h.Time.Advance(Bake);
        await engine.UpdateAsync();

        var queries = h.Health.Queries.ToList();
        Assert.Equal(2, queries.Count);
        var peers = queries[0].Peers.Select(c => c.Id).ToList();
        Assert.Equal(HealthQuery.MaxPeers, peers.Count);
        Assert.Equal(peers.Count, peers.Distinct().Count());
        Assert.DoesNotContain("c00", peers);
        Assert.DoesNotContain("c01", peers);
        Assert.Equal(peers.Order(StringComparer.Ordinal), peers);
        Assert.Contains("c02", peers);
        Assert.Same(queries[0].Peers, queries[1].Peers);
    }

    [Fact]
    public async Task A_wave_over_its_threshold_halts_touches_no_later_wave_and_stays_halted()
    {
        using var h = Fleet(configure: o => o.OnHalt = HaltAction.Pause);
        h.Fleet["c01"].FailNextDeployments = 1;
        var engine = h.Engine();

        var halted = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.Halted, halted.Rollout!.Status);
        Assert.False(halted.Succeeded);
        Assert.Contains("wave 'canary'", halted.Rollout.StatusReason, StringComparison.Ordinal);
        Assert.Equal(WaveStatus.Failed, halted.Rollout.Waves[0].Status);
        Assert.Equal("c01", Assert.Single(halted.Rollout.FailedConnectors).Connector);
        Assert.Equal(["c00", "c01"], DeploysOf(h, "2").Order());
        Assert.Single(h.LogsWithId(1055));

        for (var i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromHours(1));
            var again = await engine.UpdateAsync();
            Assert.Equal(RolloutStatus.Halted, again.Rollout!.Status);
            Assert.Empty(again.Connectors);
        }

        Assert.Equal(["c00", "c01"], DeploysOf(h, "2").Order());
        Assert.All(Ids(10).Skip(2), id => Assert.DoesNotContain(id, h.Fleet.Reads));
        Assert.False(h.Versions.State.IsInvalidated(B("2")));
    }

    [Fact]
    public async Task Throttled_failures_are_retried_not_counted_until_the_wave_attempts_run_out()
    {
        using var h = Fleet(configure: o => { o.OnHalt = HaltAction.Pause; o.MaxWaveAttempts = 3; });
        h.Fleet["c01"].FailureKind = DeploymentFailureKind.Throttled;
        h.Fleet["c01"].FailNextDeployments = 1;
        var engine = h.Engine();

        // The canary tolerates no failure, but a throttled one is the platform's: the next tick retries it.
        var first = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Running, first.Rollout!.Status);
        Assert.Equal(1, first.Rollout.Waves[0].Transient);
        Assert.Equal(0, first.Rollout.Waves[0].Failed);
        var second = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, second.Rollout!.Status);
        Assert.Equal("2", h.Fleet["c01"].Settings[ProjectVersionSetting.Name]);

        // A connector that stays throttled through every attempt counts against the threshold at the last one.
        using var stuck = Fleet(configure: o => { o.OnHalt = HaltAction.Pause; o.MaxWaveAttempts = 3; });
        stuck.Fleet["c01"].FailureKind = DeploymentFailureKind.Transient;
        stuck.Fleet["c01"].FailNextDeployments = 10;
        var stuckEngine = stuck.Engine();
        Assert.Equal(RolloutStatus.Running, (await stuckEngine.UpdateAsync()).Rollout!.Status);
        Assert.Equal(RolloutStatus.Running, (await stuckEngine.UpdateAsync()).Rollout!.Status);
        var halted = await stuckEngine.UpdateAsync();
        Assert.Equal(RolloutStatus.Halted, halted.Rollout!.Status);
        Assert.Equal(1, halted.Rollout.Waves[0].Failed);
        Assert.Equal(3, halted.Rollout.Waves[0].Attempts);
    }

    [Fact]
    public async Task An_unhealthy_canary_rolls_back_by_itself_exactly_the_wave_that_received_the_build()
    {
        using var h = Fleet();
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Health.Set("c01", new ConnectorHealth(HealthStatus.Unhealthy, "device messages failing"));
        h.Time.Advance(Bake);

        var report = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.RolledBack, report.Rollout!.Status);
        Assert.False(report.Succeeded);
        Assert.Equal(RolloutKind.Rollback, report.Kind);
        var unhealthy = Assert.Single(report.Rollout.FailedConnectors);
        Assert.Equal(("c01", "canary"), (unhealthy.Connector, unhealthy.Wave));
        Assert.Contains("device messages failing", unhealthy.Reason, StringComparison.Ordinal);
        Assert.Equal(["c00", "c01"], report.Connectors.Where(c => c.Outcome == ConnectorOutcome.RolledBack).Select(c => c.Connector.Id).Order());
        Assert.All(Ids(10), id => Assert.Equal("1", h.Fleet[id].Settings[ProjectVersionSetting.Name]));
        var invalidation = Assert.Single(h.Versions.State.Invalidated);
        Assert.Equal(B("2"), invalidation.Build);
        Assert.Contains("canary", invalidation.Reason, StringComparison.Ordinal);
        Assert.Contains("device messages failing", invalidation.Reason, StringComparison.Ordinal);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        Assert.All(Ids(10).Skip(2), id => Assert.DoesNotContain(id, h.Fleet.Reads));
        Assert.Equal(["c00", "c01"], DeploysOf(h, "2").Order());
        Assert.Single(h.LogsWithId(1056));

        // The next hourly check does not try build 2 again.
        h.Time.Advance(TimeSpan.FromHours(1));
        var next = await engine.UpdateAsync();
        Assert.Equal(RolloutKind.Straggler, next.Kind);
        Assert.Equal(2, DeploysOf(h, "2").Count);
    }

    [Fact]
    public async Task No_health_data_pauses_the_rollout_and_never_rolls_back_or_promotes()
    {
        using var h = Fleet();
        h.Health.Default = ConnectorHealth.NoData;
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Time.Advance(Bake);

        var paused = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.Paused, paused.Rollout!.Status);
        Assert.Contains("no health data", paused.Rollout.StatusReason, StringComparison.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(RolloutStatus.Paused, (await engine.UpdateAsync()).Rollout!.Status);
        }

        Assert.Equal(2, DeploysOf(h, "2").Count);
        Assert.Empty(h.Versions.State.Invalidated);
        Assert.Empty(DeploysOf(h, "1"));

        // An operator who accepts the wave without data promotes it; the next tick deploys the next wave.
        var promoted = await engine.CommandAsync(OperatorAction.Promote, "alice", "checked the dashboards");
        Assert.Equal(1, promoted.Wave);
        Assert.Equal(RolloutStatus.Running, promoted.Status);
        await engine.UpdateAsync();
        Assert.True(DeploysOf(h, "2").Count > 2);
    }

    [Fact]
    public async Task Without_a_health_signal_a_gate_that_needs_one_pauses()
    {
        using var h = Fleet();
        h.WithHealthSignal = false;
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Time.Advance(Bake);

        var paused = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.Paused, paused.Rollout!.Status);
        Assert.Empty(h.Versions.State.Invalidated);
    }

    [Fact]
    public async Task Operator_commands_take_effect_within_one_tick_and_record_their_actor()
    {
        using var h = Fleet(configure: o => o.Waves[1].RequireApproval = true);
        var engine = h.Engine();
        await engine.UpdateAsync();

        // Promote ends the canary's bake now; the next wave needs approval.
        Assert.True((await engine.CommandAsync(OperatorAction.Promote, "alice")).PromoteRequested);
        var awaiting = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.AwaitingApproval, awaiting.Rollout!.Status);
        Assert.Equal(1, awaiting.Rollout.Wave);
        Assert.Equal(2, DeploysOf(h, "2").Count);

        // Pause wins over approval; resume brings it back; promote approves.
        Assert.Equal(RolloutStatus.Paused, (await engine.CommandAsync(OperatorAction.Pause, "bob", "incident 42")).Status);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.CommandAsync(OperatorAction.Pause, "bob", null));
        await Assert.ThrowsAsync<RolloutNotActiveException>(() => engine.CommandAsync(OperatorAction.Promote, "alice"));
        Assert.Equal(RolloutStatus.Paused, (await engine.UpdateAsync()).Rollout!.Status);
        Assert.Equal(2, DeploysOf(h, "2").Count);
        Assert.Equal(RolloutStatus.AwaitingApproval, (await engine.CommandAsync(OperatorAction.Resume, "bob")).Status);
        await engine.CommandAsync(OperatorAction.Promote, "alice", "approved");
        var deployed = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, deployed.Rollout!.Status);
        Assert.True(DeploysOf(h, "2").Count > 2);

        // Promote --full: every remaining wave now, verified, no bake.
        await engine.CommandAsync(OperatorAction.PromoteFull, "carol", "hotfix");
        var done = await engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Completed, done.Rollout!.Status);
        Assert.Equal(B("2"), h.Versions.State.Current);

        var commands = done.Rollout.Commands;
        Assert.Contains(commands, c => c is { Action: OperatorAction.Pause, Actor: "bob", Reason: "incident 42" });
        Assert.Contains(commands, c => c is { Action: OperatorAction.Resume, Actor: "bob" });
        Assert.Contains(commands, c => c is { Action: OperatorAction.PromoteFull, Actor: "carol" });
        Assert.All(commands, c => Assert.Equal(h.Time.GetUtcNow().Date, c.At.Date));
        Assert.NotEmpty(h.LogsWithId(1058));
        await Assert.ThrowsAsync<RolloutNotActiveException>(() => engine.CommandAsync(OperatorAction.Pause, "bob", "too late"));
    }

    [Fact]
    public async Task Abort_rolls_back_what_was_deployed_at_the_next_tick_with_the_operators_name()
    {
        using var h = Fleet();
        var engine = h.Engine();
        await engine.UpdateAsync();

        await engine.CommandAsync(OperatorAction.Abort, "dave", "customer escalation");
        var report = await engine.UpdateAsync();

        Assert.Equal(RolloutStatus.RolledBack, report.Rollout!.Status);
        Assert.Equal(2, report.Count(ConnectorOutcome.RolledBack));
        var invalidation = Assert.Single(h.Versions.State.Invalidated);
        Assert.Equal("dave", invalidation.Actor);
        Assert.All(Ids(10), id => Assert.Equal("1", h.Fleet[id].Settings[ProjectVersionSetting.Name]));
    }

    [Fact]
    public async Task An_operator_rollback_during_a_wave_rollout_restores_only_the_reached_waves()
    {
        using var h = Fleet();
        var engine = h.Engine();
        await engine.UpdateAsync();

        var report = await engine.RollbackAsync(new RollbackRequest("alerts", "erin"));

        Assert.True(report.Succeeded);
        Assert.Equal(RolloutStatus.RolledBack, report.Rollout!.Status);
        Assert.Equal(["c00", "c01"], report.Connectors.Select(c => c.Connector.Id).Order());
        Assert.All(Ids(10).Skip(2), id => Assert.DoesNotContain(id, h.Fleet.Reads));
        Assert.Equal("erin", Assert.Single(h.Versions.State.Invalidated).Actor);
    }

    [Fact]
    public async Task Pinned_and_excluded_connectors_get_no_call_and_verify_against_their_pin()
    {
        using var h = Fleet(configure: o => o.Waves.Clear());
        var engine = h.Engine();
        await engine.PinAsync("c03", B("1"), "customer freeze", "alice");
        await engine.PinAsync("c04", null, "custom build", "alice");
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => engine.PinAsync("ghost", B("1"), "typo", "alice"));
        await Assert.ThrowsAsync<BuildNotFoundException>(() => engine.PinAsync("c05", B("9"), "typo", "alice"));
        var reads = h.Fleet.Reads.Count;

        var report = await engine.UpdateAsync();

        Assert.True(report.Succeeded);
        Assert.Equal(ConnectorOutcome.Pinned, report.Connectors.Single(c => c.Connector.Id == "c03").Outcome);
        Assert.Equal(ConnectorOutcome.Excluded, report.Connectors.Single(c => c.Connector.Id == "c04").Outcome);
        Assert.DoesNotContain("c03", DeploysOf(h, "2"));
        Assert.DoesNotContain("c04", DeploysOf(h, "2"));
        Assert.DoesNotContain("c03", h.Fleet.Reads.Skip(reads));
        Assert.DoesNotContain("c04", h.Fleet.Reads.Skip(reads));
        Assert.Equal(B("2"), h.Versions.State.Current);
        var fleet = await engine.VerifyAsync();
        Assert.True(fleet.AllVerified);
        Assert.Equal(VerificationOutcome.Verified, fleet.Connectors.Single(c => c.Connector.Id == "c03").Outcome);
        Assert.Equal(VerificationOutcome.Excluded, fleet.Connectors.Single(c => c.Connector.Id == "c04").Outcome);

        // A straggler run leaves them alone too; once unpinned, the next run brings c03 to current.
        Assert.True(await engine.UnpinAsync("c03", "alice"));
        var straggler = await engine.UpdateAsync();
        Assert.Equal(ConnectorOutcome.Updated, straggler.Connectors.Single(c => c.Connector.Id == "c03").Outcome);
        Assert.Equal(ConnectorOutcome.Excluded, straggler.Connectors.Single(c => c.Connector.Id == "c04").Outcome);
    }

    [Fact]
    public async Task Pinning_to_an_invalidated_build_is_refused_and_changes_nothing()
    {
        using var h = Fleet();
        var engine = h.Engine();
        await engine.InvalidateAsync(B("2"), "bad", "ops");
        var writes = h.Versions.Writes;

        await Assert.ThrowsAsync<BuildInvalidatedException>(() => engine.PinAsync("c03", B("2"), "try", "alice"));

        Assert.Equal(writes, h.Versions.Writes);
        Assert.Empty(h.Versions.State.Pins);
    }

    [Fact]
    public async Task The_dry_run_writes_nothing_and_its_fingerprint_is_the_executed_one()
    {
        using var h = Fleet();
        var engine = h.Engine();
        await engine.PinAsync("c05", null, "excluded", "alice");
        var writes = h.Versions.Writes;

        var plan = await engine.PlanUpdateAsync();

        Assert.Equal(writes, h.Versions.Writes);
        Assert.Empty(h.Fleet.Calls);
        Assert.Equal(["canary", "half", "rest"], plan.Waves.Select(w => w.Name));
        Assert.Equal(["c00", "c01"], plan.Waves[0].Connectors);
        Assert.Equal(9, plan.Waves.Sum(w => w.Connectors.Count));
        Assert.Equal(PlannedAction.SkipExcluded, plan.Connectors.Single(c => c.Connector.Id == "c05").Action);
        Assert.Equal(Bake, plan.Waves[0].BakeTime);
        Assert.True(plan.EstimatedDuration >= 2 * Bake);
        Assert.Matches("^[0-9a-f]{16}$", plan.Fingerprint);

        var report = await engine.UpdateAsync();

        Assert.Equal(plan.Fingerprint, report.Rollout!.Fingerprint);
        Assert.Equal(plan.Fingerprint, (await engine.PlanUpdateAsync()).Fingerprint);
    }

    [Fact]
    public async Task A_newer_build_supersedes_the_running_rollout_and_starts_at_the_first_wave()
    {
        using var h = Fleet();
        var engine = h.Engine();
        var first = await engine.UpdateAsync();
        h.Artifacts.Add("3");

        var next = await engine.UpdateAsync();

        Assert.Equal(B("3"), next.Rollout!.Target);
        Assert.Equal(0, next.Rollout.Wave);
        Assert.Equal(B("1"), next.Rollout.From);
        Assert.Equal(["c00", "c01"], DeploysOf(h, "3").Order());
        Assert.Contains(h.Versions.History, e => e.Id == first.RolloutId && e.To == B("2"));
        Assert.Single(h.LogsWithId(1057));
    }

    [Fact]
    public async Task A_crash_at_any_transition_resumes_on_a_fresh_engine_without_deploying_anyone_twice()
    {
        for (var crashAt = 1; crashAt <= 14; crashAt++)
        {
            using var h = Fleet();
            using var crashing = new CrashingVersionStore(h.Versions, crashAt);
            h.Store = crashing;
            var bakeEnds = new List<DateTimeOffset>();
            for (var tick = 0; tick < 40; tick++)
            {
                try
                {
                    var report = await h.Engine().UpdateAsync(cancellationToken: crashing.Token);
                    if (report.Rollout is { Status: RolloutStatus.Completed })
                    {
                        break;
                    }

                    if (report.NextTickAt is { } at)
                    {
                        bakeEnds.Add(at);
                    }
                }
                catch (OperationCanceledException)
                {
                    crashing.Reset();
                }

                h.Time.Advance(TimeSpan.FromMinutes(10));
            }

            Assert.True(h.Versions.State.Current == B("2"), $"crash at write {crashAt}: current is {h.Versions.State.Current}");
            var deploys = DeploysOf(h, "2");
            Assert.True(deploys.Count == 10 && deploys.Distinct().Count() == 10, $"crash at write {crashAt}: {string.Join(",", deploys)}");

            // A bake, once recorded, ends at its recorded time however often the engine restarts.
            Assert.True(bakeEnds.Distinct().Count() <= 2, $"crash at write {crashAt}: bakes ended at {string.Join(", ", bakeEnds.Distinct())}");
        }
    }

    [Fact]
    public void The_rollout_record_stays_under_64_KB_at_ten_thousand_connectors()
    {
        var now = DateTimeOffset.UnixEpoch;
        var record = new RolloutRecord
        {
            Id = "r1",
            Target = B("20201105.3"),
            From = B("20201105.2"),
            Fingerprint = "0123456789abcdef",
            StartedAt = now,
            Waves = [.. Enumerable.Range(0, 5).Select(i => new WaveRecord { Name = $"wave-{i}", Connectors = 2000, Updated = 1990, Failed = 10, Verdict = new string('v', 400) })],
            FailedConnectors = [.. Enumerable.Range(0, RolloutRecord.MaxFailedConnectors).Select(i => new FailedConnector($"connector-{i:00000}", "wave-1", new string('x', 200)))],
        };
        for (var i = 0; i < 80; i++)
        {
            record = record.WithCommand(new OperatorCommand(OperatorAction.Pause, "someone@contoso.com", new string('r', 200), now));
        }

        var state = VersionState.Empty with { Current = B("20201105.2"), InFlight = B("20201105.3"), Rollout = record };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(state, WebJson);

        Assert.Equal(RolloutRecord.MaxCommands, record.Commands.Count);
        Assert.True(bytes.Length < 64 * 1024, $"{bytes.Length} bytes");
    }

    [Theory]
    [InlineData("Waves:1:Percent is cumulative", 50.0, 10.0, null)]
    [InlineData("Waves:0:Percent must be more than 0 and at most 100", 150.0, 100.0, null)]
    [InlineData("selects nothing", null, 100.0, null)]
    [InlineData("Waves:0:BakeTime must not be negative", 10.0, 100.0, "-00:01:00")]
    public void Invalid_wave_plans_fail_at_start_naming_the_key(string expected, double? first, double? second, string? bake)
    {
        var options = new RolloutOptions();
        options.Waves.Add(new WaveOptions { Name = "a", Percent = first, BakeTime = bake is null ? TimeSpan.Zero : TimeSpan.Parse(bake, System.Globalization.CultureInfo.InvariantCulture) });
        options.Waves.Add(new WaveOptions { Name = "b", Percent = second });

        var result = new RolloutOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:Rollout:Waves:", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_local_health_file_is_read_as_the_issue_shows_and_a_missing_file_is_no_data()
    {
        var root = Path.Combine(Path.GetTempPath(), "iomt-health-" + Guid.NewGuid().ToString("N"));
        try
        {
            var signal = new LocalHealthSignal(new LocalLayout(new LocalProviderOptions { Root = root }));
            var query = new HealthQuery(new ConnectorTarget("contoso"), B("4"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
            Assert.Equal(HealthStatus.NoData, (await signal.GetHealthAsync(query)).Status);
            Directory.CreateDirectory(Path.GetDirectoryName(signal.PathOf("contoso"))!);
            await File.WriteAllTextAsync(signal.PathOf("contoso"), """{"status": "Unhealthy", "reason": "device messages failing"}""");
            Assert.Equal(new ConnectorHealth(HealthStatus.Unhealthy, "device messages failing"), await signal.GetHealthAsync(query));
            await File.WriteAllTextAsync(signal.PathOf("contoso"), "{ not json");
            Assert.Equal(HealthStatus.NoData, (await signal.GetHealthAsync(query)).Status);
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}

/// <summary>A version store that cancels the run at its Nth write (a crash at a transition), once.</summary>
internal sealed class CrashingVersionStore(InMemoryVersionStore inner, int crashAtWrite) : IVersionStore, IDisposable
{
    public void Dispose() => _cts.Dispose();

    private CancellationTokenSource _cts = new();
    private int _writes;
    private bool _crashed;

    public CancellationToken Token => _cts.Token;

    public void Reset()
    {
        _cts.Dispose();
        _cts = new CancellationTokenSource();
    }

    public Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);

    public async Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var etag = await inner.WriteAsync(state, expectedETag, cancellationToken);
        if (!_crashed && ++_writes == crashAtWrite)
        {
            // The write landed; the process dies before it learns so.
            _crashed = true;
            await _cts.CancelAsync();
            throw new OperationCanceledException(_cts.Token);
        }

        return etag;
    }

    public Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default) => inner.AppendHistoryAsync(entry, cancellationToken);

    public Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default) => inner.ReadHistoryAsync(maxCount, cancellationToken);
}
