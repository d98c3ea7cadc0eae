using System.Text.Json;
using IoMT.Deployment.Cli.Output;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The JSON contract and the text of a progressive rollout in update, rollout status, status, verify and the dry run.</summary>
public sealed class RolloutOutputTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 18, 0, 0, TimeSpan.Zero);

    private static RolloutRecord Halted() => new()
    {
        Id = "r-4",
        Target = BuildNumber.Parse("4"),
        From = BuildNumber.Parse("3"),
        Fingerprint = "sha256:abc",
        Status = RolloutStatus.RolledBack,
        StatusReason = "wave canary: 1 of 1 unhealthy (device messages failing), over MaxFailed 0",
        Wave = 0,
        StartedAt = T0,
        UpdatedAt = T0.AddMinutes(31),
        Waves =
        [
            new WaveRecord { Name = "canary", Status = WaveStatus.RolledBack, Connectors = 1, Updated = 1, Unhealthy = 1, Verdict = "1 unhealthy > 0" },
            new WaveRecord { Name = "rest", Status = WaveStatus.Pending, Connectors = 2 },
        ],
        FailedConnectors = [new FailedConnector("c1", "canary", "unhealthy: device messages failing")],
        Commands = [new OperatorCommand(OperatorAction.Pause, "alice", "looking", T0.AddMinutes(5)), new OperatorCommand(OperatorAction.Resume, "alice", null, T0.AddMinutes(6))],
    };

    private static RolloutReport Report(RolloutRecord? rollout) => new()
    {
        RolloutId = "r-4",
        Kind = RolloutKind.Update,
        From = BuildNumber.Parse("3"),
        Target = BuildNumber.Parse("4"),
        StartedAt = T0,
        CompletedAt = T0.AddSeconds(2),
        Connectors = [new ConnectorResult { Connector = new ConnectorTarget("c1"), Outcome = ConnectorOutcome.RolledBack }],
        Succeeded = false,
        Rollout = rollout,
        NextTickAt = rollout is null ? null : T0.AddHours(1),
    };

    private static string Text<T>(T value, Action<TextWriter, T> write)
    {
        using var writer = new StringWriter();
        write(writer, value);
        return writer.ToString();
    }

    private static JsonElement Json<T>(T value)
    {
        using var writer = new StringWriter();
        JsonOutput.Write(writer, value);
        using var document = JsonDocument.Parse(writer.ToString());
        return document.RootElement.Clone();
    }

    [Fact]
    public void Update_json_carries_the_rollout_with_status_target_wave_and_waves()
    {
        var rollout = Json(RolloutResult.Of(Report(Halted()))).GetProperty("rollout");
        Assert.Equal("RolledBack", rollout.GetProperty("status").GetString());
        Assert.Equal("4", rollout.GetProperty("target").GetString());
        Assert.Equal("3", rollout.GetProperty("from").GetString());
        Assert.Equal(0, rollout.GetProperty("wave").GetInt32());
        Assert.Equal("sha256:abc", rollout.GetProperty("fingerprint").GetString());
        Assert.Equal(T0.AddHours(1), rollout.GetProperty("nextTickAt").GetDateTimeOffset());
        var waves = rollout.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(["canary", "rest"], waves.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal(1, waves[0].GetProperty("connectors").GetInt32());
        Assert.Equal(1, waves[0].GetProperty("updated").GetInt32());
        Assert.Equal(0, waves[0].GetProperty("failed").GetInt32());
        Assert.Equal(1, waves[0].GetProperty("unhealthy").GetInt32());
        Assert.Equal("RolledBack", waves[0].GetProperty("status").GetString());
        Assert.Equal("Pending", waves[1].GetProperty("status").GetString());
        var failed = Assert.Single(rollout.GetProperty("failedConnectors").EnumerateArray());
        Assert.Equal("c1", failed.GetProperty("connector").GetString());
        Assert.Equal(["Pause", "Resume"], rollout.GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("action").GetString()));
        Assert.Equal("alice", rollout.GetProperty("commands")[0].GetProperty("actor").GetString());
    }

    [Fact]
    public void A_run_without_a_progressive_rollout_has_a_null_rollout()
    {
        Assert.Equal(JsonValueKind.Null, Json(RolloutResult.Of(Report(null))).GetProperty("rollout").ValueKind);
    }

    [Fact]
    public void Update_text_shows_the_waves_the_reason_and_the_commands()
    {
        var text = Text(RolloutResult.Of(Report(Halted())), TextOutput.Write);
        Assert.Contains("Rollout r-4: build 4 (from 3), ROLLEDBACK, wave 1/2", text, StringComparison.Ordinal);
        Assert.Contains("over MaxFailed 0", text, StringComparison.Ordinal);
        Assert.Matches(@"1 canary\s+1\s+1\s+0\s+1\s+RolledBack", text);
        Assert.Matches(@"2 rest\s+2\s+0\s+0\s+0\s+Pending", text);
        Assert.Contains("c1 [canary]: unhealthy: device messages failing", text, StringComparison.Ordinal);
        Assert.Contains("Pause by alice: looking", text, StringComparison.Ordinal);
        Assert.DoesNotContain("stays in flight", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wait_progress_line_names_the_wave_its_counts_and_the_bake_end()
    {
        var baking = Halted() with { Status = RolloutStatus.Baking, StatusReason = null, BakeUntil = T0.AddMinutes(30), Waves = [new WaveRecord { Name = "canary", Status = WaveStatus.Baking, Connectors = 1, Updated = 1 }, new WaveRecord { Name = "rest", Connectors = 2 }] };
        var line = Text(RolloutStateResult.Of(baking)!, (w, r) => TextOutput.WriteProgress(w, T0.AddMinutes(1), r));
        Assert.Equal("18:01:00 build 4 wave 1/2 canary: 1/1 updated, 0 failed, 0 unhealthy; Baking until 2026-12-01 18:30:00Z", line.TrimEnd());
    }

    [Fact]
    public void Status_and_verify_show_pins_against_the_fleet_and_say_loudly_when_a_pinned_build_is_invalidated()
    {
        var state = new VersionState
        {
            Current = BuildNumber.Parse("4"),
            Pins =
            [
                new ConnectorPin("c2", BuildNumber.Parse("2"), "customer validation", "alice", T0),
                new ConnectorPin("c1", null, "migration", "bob", T0),
                new ConnectorPin("c3", BuildNumber.Parse("3"), "hold", "alice", T0),
            ],
            Rollout = Halted(),
        }.WithInvalidated(new BuildInvalidation(BuildNumber.Parse("3"), "bad", T0, "carol"));
        var fleet = new FleetVerification(BuildNumber.Parse("4"),
        [
            new ConnectorVersion(new ConnectorTarget("c1"), VerificationOutcome.Excluded, "1"),
            new ConnectorVersion(new ConnectorTarget("c2"), VerificationOutcome.Verified, "2"),
            new ConnectorVersion(new ConnectorTarget("c3"), VerificationOutcome.Mismatch, "4"),
        ]);

        var verify = VerifyResult.Of(fleet, state);
        var pins = Json(verify).GetProperty("pins").EnumerateArray().ToList();
        Assert.Equal(["c1", "c2", "c3"], pins.Select(p => p.GetProperty("connector").GetString()));
        Assert.True(pins[0].GetProperty("excluded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, pins[0].GetProperty("onPin").ValueKind);
        Assert.Equal("2", pins[1].GetProperty("build").GetString());
        Assert.True(pins[1].GetProperty("onPin").GetBoolean());
        Assert.False(pins[2].GetProperty("onPin").GetBoolean());
        Assert.True(pins[2].GetProperty("buildInvalidated").GetBoolean());
        Assert.Equal("RolledBack", Json(verify).GetProperty("rollout").GetProperty("status").GetString());

        var text = Text(verify, TextOutput.Write);
        Assert.Contains("c1: excluded from rollouts, PROJECT_VERSION 1, by bob", text, StringComparison.Ordinal);
        Assert.Contains("c2: pinned to build 2, PROJECT_VERSION 2, by alice", text, StringComparison.Ordinal);
        Assert.Contains("c3: pinned to build 3, PROJECT_VERSION 4 (NOT ON ITS PIN)", text, StringComparison.Ordinal);
        Assert.Contains("WARNING: c3 is pinned to build 3, which is INVALIDATED", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dry_run_shows_waves_with_ids_thresholds_bake_approval_pins_estimate_and_fingerprint()
    {
        var plan = new RolloutPlan
        {
            Kind = RolloutKind.Update,
            Current = BuildNumber.Parse("3"),
            Target = BuildNumber.Parse("4"),
            Connectors =
            [
                new PlannedConnector(new ConnectorTarget("c1"), PlannedAction.Deploy, "3", 0),
                new PlannedConnector(new ConnectorTarget("c2"), PlannedAction.SkipPinned, "2"),
                new PlannedConnector(new ConnectorTarget("c3"), PlannedAction.SkipExcluded, "3"),
                new PlannedConnector(new ConnectorTarget("c4"), PlannedAction.Deploy, "3", 1),
            ],
            Waves =
            [
                new PlannedWave { Name = "canary", Connectors = ["c1"], BakeTime = TimeSpan.FromMinutes(30), MaxFailed = 0, RequireHealth = true },
                new PlannedWave { Name = "rest", Connectors = ["c4"], MaxFailedPercent = 5, RequireApproval = true },
            ],
            Fingerprint = "sha256:abc",
            EstimatedDuration = TimeSpan.FromMinutes(32),
        };
        var state = new VersionState
        {
            Pins = [new ConnectorPin("c2", BuildNumber.Parse("2"), "hold", "alice", T0), new ConnectorPin("c3", null, "migration", "bob", T0)],
        };

        var result = PlanResult.Of(plan, state);
        var json = Json(result);
        var waves = json.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal("canary", waves[0].GetProperty("name").GetString());
        Assert.Equal(1, waves[0].GetProperty("count").GetInt32());
        Assert.Equal(["c1"], waves[0].GetProperty("connectors").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(1_800_000, waves[0].GetProperty("bakeTimeMs").GetInt64());
        Assert.Equal(0, waves[0].GetProperty("maxFailed").GetInt32());
        Assert.True(waves[1].GetProperty("requireApproval").GetBoolean());
        Assert.Equal(5, waves[1].GetProperty("maxFailedPercent").GetDouble());
        Assert.Equal(["c2"], json.GetProperty("pinned").EnumerateArray().Select(p => p.GetProperty("connector").GetString()));
        Assert.Equal(["c3"], json.GetProperty("excluded").EnumerateArray().Select(p => p.GetProperty("connector").GetString()));
        Assert.Equal(32 * 60_000, json.GetProperty("estimatedDurationMs").GetInt64());
        Assert.Equal("sha256:abc", json.GetProperty("fingerprint").GetString());
        Assert.Equal(["pinned to build 2", "excluded from rollouts"], json.GetProperty("skipped").EnumerateArray().Select(s => s.GetProperty("reason").GetString()));

        var text = Text(result, TextOutput.Write);
        Assert.Contains("1. canary: 1 connector, at most 0 failed, bake 00:30:00", text, StringComparison.Ordinal);
        Assert.Contains("2. rest: 1 connector, at most 5% failed, bake none, waits for approval (rollout promote)", text, StringComparison.Ordinal);
        Assert.Contains("Pinned (1): c2 on 2", text, StringComparison.Ordinal);
        Assert.Contains("Excluded (1): c3", text, StringComparison.Ordinal);
        Assert.Contains("Estimated duration: 00:32:00. Plan fingerprint: sha256:abc", text, StringComparison.Ordinal);
    }
}
