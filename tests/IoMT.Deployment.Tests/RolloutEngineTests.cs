using Moq;

namespace IoMT.Deployment.Tests;

public class RolloutEngineTests
{
    private static BuildNumber B(string s) => BuildNumber.Parse(s);

    // Design test plan, case 1: no code in the container.
    [Fact]
    public async Task Update_with_no_build_in_the_container_throws_and_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Fleet.Add("a");
        var deployer = new Mock<IConnectorDeployer>(MockBehavior.Strict);
        var store = new Mock<IVersionStore>(MockBehavior.Strict);
        store.Setup(s => s.ReadAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new VersionStateEntry(VersionState.Empty, null));
        h.Deployer = deployer.Object;
        h.Store = store.Object;

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().UpdateAsync());

        Assert.Null(ex.Build);
        Assert.Contains("no build", ex.Message, StringComparison.Ordinal);
        var refused = Assert.Single(h.LogsWithId(1023));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, refused.Level);
        Assert.Same(ex, refused.Exception);
        store.Verify(s => s.WriteAsync(It.IsAny<VersionState>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
        store.Verify(s => s.AppendHistoryAsync(It.IsAny<RolloutHistoryEntry>(), It.IsAny<CancellationToken>()), Times.Never);
        deployer.VerifyNoOtherCalls();
    }

    // Design test plan, case 1: the container cannot be read.
    [Fact]
    public async Task Update_when_the_container_cannot_be_read_throws_and_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Fleet.Add("a");
        h.Artifacts.Add("1");
        var source = new Mock<IArtifactSource>();
        source.Setup(s => s.ListAsync(It.IsAny<CancellationToken>())).Throws(new ArtifactStoreException("The container 'iomtconnector' does not exist."));
        h.Source = source.Object;

        var ex = await Assert.ThrowsAsync<ArtifactStoreException>(() => h.Engine().UpdateAsync());

        Assert.Contains("iomtconnector", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Versions.Writes);
        Assert.Empty(h.Fleet.Calls);
        source.Verify(s => s.OpenAsync(It.IsAny<BuildNumber>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Single(h.LogsWithId(1023));
    }

    [Fact]
    public async Task An_unexpected_exception_is_logged_as_an_error_with_the_operation()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        var store = new Mock<IVersionStore>();
        store.Setup(s => s.ReadAsync(It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException("database unreachable"));
        h.Store = store.Object;

        await Assert.ThrowsAsync<TimeoutException>(() => h.Engine().UpdateAsync());

        var failed = Assert.Single(h.LogsWithId(1015));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, failed.Level);
        Assert.Equal("update", failed.GetStructuredStateValue("Operation"));
    }

    // Design test plan, case 2: an update exists but there are no connectors.
    [Fact]
    public async Task Update_with_no_connectors_records_the_new_build()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        var inventory = new Mock<IConnectorInventory>();
        inventory.Setup(i => i.ListAsync(It.IsAny<CancellationToken>())).Returns(AsyncEnumerable.Empty<ConnectorTarget>());
        var deployer = new Mock<IConnectorDeployer>(MockBehavior.Strict);
        h.Inventory = inventory.Object;
        h.Deployer = deployer.Object;

        var report = await h.Engine().UpdateAsync();

        Assert.True(report.Succeeded);
        Assert.Equal(RolloutKind.Update, report.Kind);
        Assert.Equal(B("2"), report.Target);
        Assert.Empty(report.Connectors);
        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        deployer.VerifyNoOtherCalls();
    }

    // Design test plan, case 3: connectors are updated, then verified.
    [Fact]
    public async Task Update_deploys_then_sets_the_version_then_verifies_every_connector()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        var targets = new[] { new ConnectorTarget("a"), new ConnectorTarget("b") };
        var inventory = new Mock<IConnectorInventory>();
        inventory.Setup(i => i.ListAsync(It.IsAny<CancellationToken>())).Returns(targets.ToAsyncEnumerable());
        var versions = new Dictionary<string, string?> { ["a"] = "1", ["b"] = "1" };
        var sequence = new List<string>();
        var deployer = new Mock<IConnectorDeployer>(MockBehavior.Strict);
        deployer.Setup(d => d.GetProjectVersionAsync(It.IsAny<ConnectorTarget>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ConnectorTarget c, CancellationToken _) => { lock (sequence) { sequence.Add("get " + c.Id); return versions[c.Id]; } });
        deployer.Setup(d => d.DeployAsync(It.IsAny<ConnectorTarget>(), It.Is<ArtifactPackage>(p => p.Build == B("2")), It.IsAny<CancellationToken>()))
            .Callback((ConnectorTarget c, ArtifactPackage _, CancellationToken _) => { lock (sequence) { sequence.Add("deploy " + c.Id); } })
            .Returns(Task.CompletedTask);
        deployer.Setup(d => d.SetProjectVersionAsync(It.IsAny<ConnectorTarget>(), B("2"), It.IsAny<CancellationToken>()))
            .Callback((ConnectorTarget c, BuildNumber b, CancellationToken _) => { lock (sequence) { sequence.Add("set " + c.Id); versions[c.Id] = b.ToString(); } })
            .Returns(Task.CompletedTask);
        h.Inventory = inventory.Object;
        h.Deployer = deployer.Object;

        var report = await h.Engine().UpdateAsync();

        Assert.True(report.Succeeded);
        Assert.Equal(2, report.Count(ConnectorOutcome.Updated));
        Assert.All(report.Connectors, c => Assert.Equal(VerificationOutcome.Verified, c.Verification));
        Assert.All(report.Connectors, c => Assert.Equal("2", c.VerifiedVersion));
        Assert.All(report.Connectors, c => Assert.Equal("1", c.PreviousVersion));
        foreach (var id in new[] { "a", "b" })
        {
            var mine = sequence.Where(s => s.EndsWith(" " + id, StringComparison.Ordinal)).ToList();
            Assert.Equal(["get " + id, "deploy " + id, "set " + id, "get " + id], mine);
        }

        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        Assert.Equal(1, h.Artifacts.Opens);
        var history = Assert.Single(h.Versions.History);
        Assert.Equal(RolloutKind.Update, history.Kind);
        Assert.Equal(B("1"), history.From);
        Assert.Equal(B("2"), history.To);
        Assert.True(history.Succeeded);
        Assert.Equal(2, history.Counts["Updated"]);
    }

    // Design test plan, case 4: the metrics are logged.
    [Fact]
    public async Task Update_logs_and_measures_detection_each_app_service_and_the_list_updated()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        h.Fleet.Add("a", "b", "c");
        h.Fleet["c"].FailNextDeployments = 1;
        using var checks = h.Collect<long>("iomt.deployment.checks");
        using var connectors = h.Collect<long>("iomt.deployment.connectors");
        using var durations = h.Collect<double>("iomt.deployment.connector.duration");
        using var errors = h.Collect<long>("iomt.deployment.errors");

        await h.Engine().UpdateAsync();

        var detected = Assert.Single(h.LogsWithId(1001));
        Assert.Contains("build 2 is newer than current build 1", detected.Message, StringComparison.Ordinal);
        Assert.Equal(2, h.LogsWithId(1003).Count);
        Assert.All(h.LogsWithId(1003), r => Assert.Contains(r.StructuredState!, kv => kv.Key == "ElapsedMs"));
        var listed = Assert.Single(h.LogsWithId(1007));
        Assert.Contains("a", listed.GetStructuredStateValue("Connectors"), StringComparison.Ordinal);
        Assert.Contains("b", listed.GetStructuredStateValue("Connectors"), StringComparison.Ordinal);
        Assert.DoesNotContain("c", listed.GetStructuredStateValue("Connectors"), StringComparison.Ordinal);
        var failed = Assert.Single(h.LogsWithId(1006));
        Assert.IsType<DeploymentFailedException>(failed.Exception);
        Assert.Equal("c", failed.GetStructuredStateValue("Connector"));
        Assert.Equal("2", failed.GetStructuredStateValue("Build"));

        Assert.Equal(1, checks.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal("update_detected", checks.LastMeasurement!.Tags["result"]);
        var byOutcome = connectors.GetMeasurementSnapshot();
        Assert.Equal(2, byOutcome.Count(m => (string?)m.Tags["outcome"] == "updated"));
        Assert.Equal(1, byOutcome.Count(m => (string?)m.Tags["outcome"] == "failed"));
        Assert.Equal(3, durations.GetMeasurementSnapshot().Count);
        Assert.Equal(1, errors.GetMeasurementSnapshot().Count(m => (string?)m.Tags["operation"] == "deploy"));
    }

    [Fact]
    public async Task No_update_logs_it_and_brings_stragglers_and_new_connectors_to_current()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Versions.Set(VersionState.Empty with { Current = B("2") });
        h.Fleet.Add("on-current", "straggler", "new");
        h.Fleet["on-current"].Settings[ProjectVersionSetting.Name] = "2";
        h.Fleet["straggler"].Settings[ProjectVersionSetting.Name] = "1";
        using var checks = h.Collect<long>("iomt.deployment.checks");

        var report = await h.Engine().UpdateAsync();

        Assert.Equal(RolloutKind.Straggler, report.Kind);
        Assert.True(report.Succeeded);
        Assert.Single(h.LogsWithId(1002));
        Assert.Empty(h.LogsWithId(1001));
        Assert.Equal("no_update", checks.LastMeasurement!.Tags["result"]);
        Assert.Equal(ConnectorOutcome.AlreadyCurrent, report.Connectors.Single(c => c.Connector.Id == "on-current").Outcome);
        Assert.Equal(ConnectorOutcome.Updated, report.Connectors.Single(c => c.Connector.Id == "straggler").Outcome);
        Assert.Equal(ConnectorOutcome.Updated, report.Connectors.Single(c => c.Connector.Id == "new").Outcome);
        Assert.Equal(0, h.Fleet["on-current"].Deployments);
        Assert.Equal(0, h.Versions.Writes);
    }

    [Fact]
    public async Task The_highest_build_is_chosen_by_number_not_by_text()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2").Add("10").Add("9").AddRaw("readme.txt", [1, 2]).AddRaw("latest.zip", [1]);
        h.Fleet.Add("a");

        var report = await h.Engine().UpdateAsync();

        Assert.Equal(B("10"), report.Target);
        Assert.Equal("10", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);
    }

    [Fact]
    public async Task An_invalidated_build_is_never_chosen()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2").Add("3");
        h.Versions.Set((VersionState.Empty with { Current = B("2") })
            .WithInvalidated(new BuildInvalidation(B("3"), "bad", h.Time.GetUtcNow(), "ops")));
        h.Fleet.Add("a");
        h.Fleet["a"].Settings[ProjectVersionSetting.Name] = "2";

        var report = await h.Engine().UpdateAsync();

        Assert.Equal(RolloutKind.Straggler, report.Kind);
        Assert.Equal(B("2"), report.Target);
        Assert.DoesNotContain(h.Fleet.Calls, c => c.Contains(" 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_build_invalidated_is_an_error_that_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Versions.Set(VersionState.Empty.WithInvalidated(new BuildInvalidation(B("1"), "bad", h.Time.GetUtcNow(), "ops")));
        h.Fleet.Add("a");
        var writes = h.Versions.Writes;

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().UpdateAsync());

        Assert.Contains("invalidated", ex.Message, StringComparison.Ordinal);
        Assert.Equal(writes, h.Versions.Writes);
        Assert.Empty(h.Fleet.Calls);
    }

    [Fact]
    public async Task A_connector_deleted_before_or_during_its_deploy_is_skipped_not_failed()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a", "gone-not-found", "gone-generic", "b");
        h.Fleet["gone-not-found"].DeleteDuringDeploy = true;
        h.Fleet["gone-generic"].DeleteWithGenericError = true;

        var report = await h.Engine().UpdateAsync();

        Assert.True(report.Succeeded);
        Assert.Equal(2, report.Count(ConnectorOutcome.Updated));
        Assert.Equal(2, report.Count(ConnectorOutcome.Deleted));
        Assert.Equal(0, report.Count(ConnectorOutcome.Failed));
        Assert.All(report.Connectors.Where(c => c.Outcome == ConnectorOutcome.Deleted), c => Assert.Equal(VerificationOutcome.Deleted, c.Verification));
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal(2, h.LogsWithId(1005).Count);
        Assert.Empty(h.LogsWithId(1006));
    }

    [Fact]
    public async Task A_partial_failure_keeps_the_target_in_flight_and_the_next_run_retries_exactly_the_failures()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        h.Fleet.Add("a", "b", "c");
        h.Fleet["b"].FailNextDeployments = 1;
        var engine = h.Engine();

        var first = await engine.UpdateAsync();

        Assert.False(first.Succeeded);
        Assert.Equal(ConnectorOutcome.Failed, first.Connectors.Single(c => c.Connector.Id == "b").Outcome);
        Assert.IsType<DeploymentFailedException>(first.Connectors.Single(c => c.Connector.Id == "b").Error);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal(B("2"), h.Versions.State.InFlight);
        Assert.Single(h.LogsWithId(1010));

        var second = await engine.UpdateAsync();

        Assert.True(second.Succeeded);
        Assert.Equal(ConnectorOutcome.Updated, second.Connectors.Single(c => c.Connector.Id == "b").Outcome);
        Assert.Equal(2, second.Count(ConnectorOutcome.AlreadyCurrent));
        Assert.Equal(1, h.Fleet["a"].Deployments);
        Assert.Equal(1, h.Fleet["b"].Deployments);
        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        Assert.Equal(2, h.Versions.History.Count);
        Assert.False(h.Versions.History[1].Succeeded);
        Assert.True(h.Versions.History[0].Succeeded);
    }

    [Fact]
    public async Task A_verification_mismatch_keeps_the_target_in_flight()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        var deployer = new Mock<IConnectorDeployer>();
        deployer.Setup(d => d.GetProjectVersionAsync(It.IsAny<ConnectorTarget>(), It.IsAny<CancellationToken>())).ReturnsAsync("0");
        h.Deployer = deployer.Object;
        h.Fleet.Add("a");

        var report = await h.Engine().UpdateAsync();

        Assert.False(report.Succeeded);
        var a = Assert.Single(report.Connectors);
        Assert.Equal(ConnectorOutcome.Updated, a.Outcome);
        Assert.Equal(VerificationOutcome.Mismatch, a.Verification);
        Assert.Equal("0", a.VerifiedVersion);
        Assert.Null(h.Versions.State.Current);
        Assert.Equal(B("1"), h.Versions.State.InFlight);
        Assert.Single(h.LogsWithId(1009));
    }

    [Fact]
    public async Task A_package_that_does_not_match_its_sha256_is_refused_before_any_connector_is_touched()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1", TestPackages.ForBuild("1"), recordedSha: new string('0', 64));
        h.Fleet.Add("a");

        var ex = await Assert.ThrowsAsync<InvalidPackageException>(() => h.Engine().UpdateAsync());

        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.Calls);
        Assert.Equal(0, h.Versions.Writes);
    }

    [Fact]
    public async Task A_package_that_is_not_a_zip_is_refused_before_any_connector_is_touched()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1", "not a zip"u8.ToArray());
        h.Fleet.Add("a");

        var ex = await Assert.ThrowsAsync<InvalidPackageException>(() => h.Engine().UpdateAsync());

        Assert.Contains("not a valid zip", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.Calls);
    }

    [Fact]
    public async Task Rollback_invalidates_the_current_build_and_deploys_the_previous_valid_one()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2").Add("3");
        h.Fleet.Add("a", "b");
        var engine = h.Engine();
        await engine.UpdateAsync();
        Assert.Equal(B("3"), h.Versions.State.Current);

        var report = await engine.RollbackAsync(new RollbackRequest("alerts firing", "oncall"));

        Assert.Equal(RolloutKind.Rollback, report.Kind);
        Assert.True(report.Succeeded);
        Assert.Equal(B("2"), report.Target);
        Assert.Equal(B("3"), report.From);
        Assert.Equal(B("2"), h.Versions.State.Current);
        var invalidation = Assert.Single(h.Versions.State.Invalidated);
        Assert.Equal(B("3"), invalidation.Build);
        Assert.Equal("alerts firing", invalidation.Reason);
        Assert.Equal("oncall", invalidation.Actor);
        Assert.Equal(h.Time.GetUtcNow(), invalidation.At);
        Assert.Equal("2", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);

        // The next hourly check does not redeploy the invalidated build.
        var next = await engine.UpdateAsync();
        Assert.Equal(RolloutKind.Straggler, next.Kind);
        Assert.Equal(B("2"), next.Target);
        Assert.Equal(0, next.Count(ConnectorOutcome.Updated));
    }

    [Fact]
    public async Task Rollback_to_a_named_build_invalidates_every_build_in_between()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2").Add("3").Add("4");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();

        var report = await engine.RollbackAsync(new RollbackRequest("regression since 2", "oncall", B("1")));

        Assert.Equal(B("1"), report.Target);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Equal([B("2"), B("3"), B("4")], h.Versions.State.Invalidated.Select(i => i.Build).Order());
        Assert.Equal("1", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);
    }

    [Fact]
    public async Task Rollback_with_nothing_to_roll_back_to_is_a_clear_error_that_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();
        var writes = h.Versions.Writes;
        var calls = h.Fleet.Calls.Count;

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => engine.RollbackAsync(new RollbackRequest("bad", "oncall")));

        Assert.Contains("no valid older build", ex.Message, StringComparison.Ordinal);
        Assert.Equal(writes, h.Versions.Writes);
        Assert.Empty(h.Versions.State.Invalidated);
        Assert.Equal(calls, h.Fleet.Calls.Count);
    }

    [Fact]
    public async Task Rollback_before_any_rollout_is_a_clear_error()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().RollbackAsync(new RollbackRequest("bad", "oncall")));

        Assert.Contains("no build is current or in flight", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Versions.Writes);
    }

    [Fact]
    public async Task Rollback_to_an_unknown_newer_or_invalidated_build_is_refused_and_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2").Add("3");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();
        await engine.InvalidateAsync(B("1"), "old bug", "ops");
        var state = h.Versions.State;

        await Assert.ThrowsAsync<BuildNotFoundException>(() => engine.RollbackAsync(new RollbackRequest("r", "ops", B("7"))));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.RollbackAsync(new RollbackRequest("r", "ops", B("3"))));
        await Assert.ThrowsAsync<BuildInvalidatedException>(() => engine.RollbackAsync(new RollbackRequest("r", "ops", B("1"))));

        Assert.Equal(state, h.Versions.State);
    }

    [Fact]
    public async Task Rollback_of_a_build_in_flight_invalidates_it_and_returns_to_the_last_good_one()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a", "b");
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Artifacts.Add("2");
        h.Fleet["b"].FailNextDeployments = 5;
        var partial = await engine.UpdateAsync();
        Assert.False(partial.Succeeded);
        Assert.Equal(B("2"), h.Versions.State.InFlight);

        var report = await engine.RollbackAsync(new RollbackRequest("half deployed and broken", "oncall"));

        Assert.True(report.Succeeded);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
        Assert.True(h.Versions.State.IsInvalidated(B("2")));
        Assert.False(h.Versions.State.IsInvalidated(B("1")));
        Assert.Equal("1", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);
    }

    [Fact]
    public async Task Reinstate_lets_the_next_update_pick_the_build_again()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();
        await engine.RollbackAsync(new RollbackRequest("suspected", "oncall"));
        Assert.Equal(B("1"), h.Versions.State.Current);

        Assert.True(await engine.ReinstateAsync(B("2"), "oncall"));
        Assert.False(await engine.ReinstateAsync(B("2"), "oncall"));
        var report = await engine.UpdateAsync();

        Assert.Equal(RolloutKind.Update, report.Kind);
        Assert.Equal(B("2"), h.Versions.State.Current);
        Assert.Single(h.LogsWithId(1013));
    }

    [Fact]
    public async Task Invalidating_the_current_build_alone_makes_the_next_check_converge_to_the_newest_valid_build()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();

        Assert.True(await engine.InvalidateAsync(B("2"), "bad", "ops"));
        Assert.False(await engine.InvalidateAsync(B("2"), "bad again", "ops"));
        await Assert.ThrowsAsync<BuildNotFoundException>(() => engine.InvalidateAsync(B("99"), "typo", "ops"));
        var report = await engine.UpdateAsync();

        Assert.Equal(RolloutKind.Rollback, report.Kind);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Single(h.LogsWithId(1016));
    }

    [Fact]
    public async Task Invalidating_a_half_rolled_build_brings_everyone_back_and_clears_it_from_flight()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a", "b");
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Artifacts.Add("2");
        h.Fleet["b"].FailNextDeployments = 1;
        await engine.UpdateAsync();
        Assert.Equal(B("2"), h.Versions.State.InFlight);
        Assert.Equal("2", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);

        await engine.InvalidateAsync(B("2"), "bad", "ops");
        var report = await engine.UpdateAsync();

        // The invalidated rollout is rolled back: exactly the connector that received build 2 is restored.
        Assert.Equal(RolloutKind.Rollback, report.Kind);
        Assert.True(report.Succeeded);
        Assert.Equal("a", Assert.Single(report.Connectors, c => c.Outcome == ConnectorOutcome.RolledBack).Connector.Id);
        Assert.Equal(RolloutStatus.RolledBack, report.Rollout?.Status);
        Assert.Equal("1", h.Fleet["a"].Settings[ProjectVersionSetting.Name]);
        Assert.Equal(B("1"), h.Versions.State.Current);
        Assert.Null(h.Versions.State.InFlight);
    }

    [Fact]
    public async Task A_state_conflict_is_retried_on_the_fresh_state_and_keeps_the_other_writers_change()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();

        // Another writer invalidates build 1 between our read and our write.
        h.Versions.BeforeWrite = store =>
            store.Set(store.State.WithInvalidated(new BuildInvalidation(B("1"), "other writer", h.Time.GetUtcNow(), "someone")));
        Assert.True(await engine.InvalidateAsync(B("2"), "ours", "ops"));

        Assert.True(h.Versions.State.IsInvalidated(B("1")));
        Assert.True(h.Versions.State.IsInvalidated(B("2")));
    }

    [Fact]
    public async Task A_persistent_state_conflict_surfaces_as_the_conflict_exception()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        var store = new Mock<IVersionStore>();
        store.Setup(s => s.ReadAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new VersionStateEntry(VersionState.Empty, "\"e1\""));
        store.Setup(s => s.WriteAsync(It.IsAny<VersionState>(), "\"e1\"", It.IsAny<CancellationToken>())).ThrowsAsync(new VersionStateConflictException("stale"));
        h.Store = store.Object;

        await Assert.ThrowsAsync<VersionStateConflictException>(() => h.Engine().InvalidateAsync(B("1"), "r", "ops"));

        store.Verify(s => s.WriteAsync(It.IsAny<VersionState>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Exactly(h.Options.StateWriteAttempts));
    }

    [Fact]
    public async Task A_held_lock_skips_the_run_and_changes_nothing()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a");
        var held = await h.Lock.TryAcquireAsync("another replica");
        Assert.NotNull(held);

        await Assert.ThrowsAsync<RolloutLockHeldException>(() => h.Engine().UpdateAsync());

        Assert.Empty(h.Fleet.Calls);
        Assert.Single(h.LogsWithId(1011));
        await held.DisposeAsync();
        var report = await h.Engine().UpdateAsync();
        Assert.True(report.Succeeded);
    }

    [Fact]
    public async Task A_lost_lease_cancels_the_rollout_and_leaves_the_target_in_flight()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a", "b", "c", "d");
        using var lost = new CancellationTokenSource();
        var lease = new Mock<IRolloutLease>();
        lease.SetupGet(l => l.LeaseLost).Returns(lost.Token);
        var rolloutLock = new Mock<IRolloutLock>();
        rolloutLock.Setup(l => l.TryAcquireAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(lease.Object);
        h.Lock = rolloutLock.Object;
        h.Options.MaxParallelism = 1;
        var deployer = new Mock<IConnectorDeployer>();
        deployer.Setup(d => d.DeployAsync(It.IsAny<ConnectorTarget>(), It.IsAny<ArtifactPackage>(), It.IsAny<CancellationToken>()))
            .Returns((ConnectorTarget _, ArtifactPackage _, CancellationToken ct) =>
            {
                lost.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            });
        h.Deployer = deployer.Object;

        // Not the caller's cancellation: the engine says the lock was lost, so the CLI does not report it as Ctrl+C.
        var lostLock = await Assert.ThrowsAsync<RolloutLockHeldException>(() => h.Engine().UpdateAsync());
        Assert.Contains("rollout lock was lost", lostLock.Message, StringComparison.Ordinal);

        Assert.Equal(B("1"), h.Versions.State.InFlight);
        Assert.Null(h.Versions.State.Current);
        deployer.Verify(d => d.DeployAsync(It.IsAny<ConnectorTarget>(), It.IsAny<ArtifactPackage>(), It.IsAny<CancellationToken>()), Times.Once);
        lease.Verify(l => l.DisposeAsync(), Times.Once);
    }

    [Fact]
    public async Task Dry_run_plans_without_changing_anything()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Versions.Set(VersionState.Empty with { Current = B("1") });
        h.Fleet.Add("a", "b");
        h.Fleet["b"].Settings[ProjectVersionSetting.Name] = "2";

        var plan = await h.Engine().PlanUpdateAsync();

        Assert.Equal(RolloutKind.Update, plan.Kind);
        Assert.Equal(B("2"), plan.Target);
        Assert.Equal(PlannedAction.Deploy, plan.Connectors.Single(c => c.Connector.Id == "a").Action);
        Assert.Equal(PlannedAction.SkipAlreadyCurrent, plan.Connectors.Single(c => c.Connector.Id == "b").Action);
        Assert.Empty(h.Fleet.Calls);
        Assert.Equal(0, h.Versions.Writes);
    }

    [Fact]
    public async Task Provision_puts_the_current_build_on_a_new_connector()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Fleet.Add("a");
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Fleet.Add("new-customer");

        var result = await engine.ProvisionAsync(new ConnectorTarget("new-customer"));

        Assert.Equal(ConnectorOutcome.Updated, result.Outcome);
        Assert.Equal(VerificationOutcome.Verified, result.Verification);
        Assert.Equal("2", h.Fleet["new-customer"].Settings[ProjectVersionSetting.Name]);
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => engine.ProvisionAsync(new ConnectorTarget("never-created")));
    }

    [Fact]
    public async Task Provision_before_any_rollout_is_a_clear_error()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a");

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().ProvisionAsync(new ConnectorTarget("a")));

        Assert.Contains("no build is current", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.Calls);
    }

    [Fact]
    public async Task Provision_opens_only_the_current_build_and_refuses_one_missing_from_the_store()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("new-customer");
        h.Versions.Set(VersionState.Empty with { Current = B("5") });
        var source = new Mock<IArtifactSource>();
        source.Setup(s => s.OpenAsync(B("5"), It.IsAny<CancellationToken>())).ThrowsAsync(new BuildNotFoundException(B("5"), "Build 5 is not in the container."));
        h.Source = source.Object;

        var ex = await Assert.ThrowsAsync<BuildNotFoundException>(() => h.Engine().ProvisionAsync(new ConnectorTarget("new-customer")));

        Assert.Equal(B("5"), ex.Build);
        Assert.Empty(h.Fleet.Calls);
        source.Verify(s => s.ListAsync(It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Verify_and_status_report_the_fleet_by_version()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1").Add("2");
        h.Fleet.Add("a", "b");
        var engine = h.Engine();
        await engine.UpdateAsync();
        h.Fleet["b"].Settings[ProjectVersionSetting.Name] = "1";

        var verification = await engine.VerifyAsync();
        var status = await engine.GetStatusAsync();

        Assert.False(verification.AllVerified);
        Assert.Equal(VerificationOutcome.Mismatch, verification.Connectors.Single(c => c.Connector.Id == "b").Outcome);
        Assert.Equal(B("2"), status.State.Current);
        Assert.Equal(B("2"), status.Candidate);
        Assert.Equal([B("1"), B("2")], status.Builds.Select(b => b.Artifact.Build));
        Assert.Single(status.History);
        Assert.NotNull(status.Fleet);
    }

    [Fact]
    public async Task A_large_fleet_is_deployed_with_bounded_parallelism_and_the_package_read_once()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Options.MaxParallelism = 8;
        var ids = Enumerable.Range(0, 500).Select(i => $"c{i:D4}").ToArray();
        var inFlight = 0;
        var maxInFlight = 0;

        // The first deployments hold until 8 are in flight at once: a rollout that never reaches its parallelism fails here
        // (after a bounded wait) instead of passing with fewer.
        var parallelismReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deployer = new Mock<IConnectorDeployer>();
        var versions = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        deployer.Setup(d => d.GetProjectVersionAsync(It.IsAny<ConnectorTarget>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ConnectorTarget c, CancellationToken _) => versions.TryGetValue(c.Id, out var v) ? v : null);
        deployer.Setup(d => d.DeployAsync(It.IsAny<ConnectorTarget>(), It.IsAny<ArtifactPackage>(), It.IsAny<CancellationToken>()))
            .Returns(async () =>
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref maxInFlight, now);
                try
                {
                    if (now == 8)
                    {
                        parallelismReached.TrySetResult();
                    }

                    try
                    {
                        await parallelismReached.Task.WaitAsync(TimeSpan.FromSeconds(10));
                    }
                    catch (TimeoutException)
                    {
                        // Fail every later deployment at once rather than waiting 10 s for each.
                        parallelismReached.TrySetException(new TimeoutException($"only {maxInFlight} deployments were ever in flight at once"));
                        throw;
                    }

                    await Task.Yield();
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            });
        deployer.Setup(d => d.SetProjectVersionAsync(It.IsAny<ConnectorTarget>(), It.IsAny<BuildNumber>(), It.IsAny<CancellationToken>()))
            .Callback((ConnectorTarget c, BuildNumber b, CancellationToken _) => versions[c.Id] = b.ToString())
            .Returns(Task.CompletedTask);
        h.Deployer = deployer.Object;
        h.Fleet.Add(ids);

        var report = await h.Engine().UpdateAsync();

        Assert.True(parallelismReached.Task.IsCompletedSuccessfully, "8 deployments were never in flight at once");
        Assert.True(report.Succeeded, string.Join("; ", report.Connectors.Select(c => c.ErrorMessage).Where(m => m is not null).Distinct()));
        Assert.Equal(500, report.Count(ConnectorOutcome.Updated));
        Assert.Equal(8, maxInFlight);
        Assert.Equal(1, h.Artifacts.Opens);
    }

    [Fact]
    public async Task The_engine_steps_connectors_through_the_configured_rollout_policy()
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        h.Fleet.Add("a", "b", "c", "d");
        var policy = new ReverseOrderPolicy(leaveOut: "c");
        h.Policy = policy;

        var report = await h.Engine().UpdateAsync();

        // The policy decides the order and which connectors are stepped; the report carries its results as it returned them.
        Assert.Equal(["d", "c", "b", "a"], policy.Seen);
        Assert.Equal(["deploy d 1", "deploy b 1", "deploy a 1"], h.Fleet.Calls.Where(c => c.StartsWith("deploy", StringComparison.Ordinal)));
        Assert.Equal(["d", "c", "b", "a"], report.Connectors.Select(c => c.Connector.Id));
        Assert.Equal(ConnectorOutcome.Excluded, report.Connectors.Single(c => c.Connector.Id == "c").Outcome);
        Assert.Equal(0, h.Fleet["c"].Deployments);
        Assert.Equal(3, report.Count(ConnectorOutcome.Updated));
    }

    /// <summary>Steps connectors one at a time, newest-listed first, and reports one of them as excluded without stepping it.</summary>
    private sealed class ReverseOrderPolicy(string leaveOut) : IRolloutPolicy
    {
        public List<string> Seen { get; } = [];

        public async Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
            IAsyncEnumerable<ConnectorTarget> connectors,
            Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
            CancellationToken cancellationToken = default)
        {
            var all = new List<ConnectorTarget>();
            await foreach (var connector in connectors.WithCancellation(cancellationToken))
            {
                all.Add(connector);
            }

            var results = new List<ConnectorResult>();
            foreach (var connector in Enumerable.Reverse(all))
            {
                Seen.Add(connector.Id);
                results.Add(connector.Id == leaveOut
                    ? new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Excluded }
                    : await connectorStep(connector, cancellationToken));
            }

            return results;
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
