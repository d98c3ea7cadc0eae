using System.Text.Json;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>
/// Progressive rollouts through the real tool on a local root: waves from --config, the local health signal
/// (<c>connectors/&lt;id&gt;/health.json</c>), update --wait, rollout status and operator commands, pins, the dry run.
/// </summary>
public sealed class RolloutWavesTests : IDisposable
{
    // The canary is c1 (by id); everyone else follows without a health gate. One second of bake keeps the story short.
    private const string Waves = """
        { "Rollout": { "Waves": [
          { "Name": "canary", "Connectors": ["c1"], "BakeTime": "00:00:01", "MaxFailed": 0 },
          { "Name": "rest", "Percent": 100, "RequireHealth": false }
        ] } }
        """;

    private readonly Workspace _ws = new();
    private readonly string _config;

    public RolloutWavesTests() => _config = _ws.WriteFile("waves.json", Waves);

    public void Dispose() => _ws.Dispose();

    private CliRun Run(params string[] args) => _ws.Run([.. args, "--config", _config]);

    private void Health(string connector, string status, string? reason = null) =>
        File.WriteAllText(Path.Combine(_ws.Root, "connectors", connector, "health.json"), JsonSerializer.Serialize(new { status, reason }));

    private string Version(string connector) => (string?)_ws.Settings(connector)["PROJECT_VERSION"] ?? "(not set)";

    private void Deliver(int build) => Run("deliver", _ws.MakeFunction(build), "--build", build.ToString(System.Globalization.CultureInfo.InvariantCulture)).Exits(0);

    // c1..c4 on build 1, the canary healthy.
    private void DeployedFleet()
    {
        Run("connectors", "add", "c1", "c2", "c3", "c4").Exits(0);
        Deliver(1);
        Health("c1", "Healthy");
        var first = Run("update", "--wait", "--output", "json").Exits(0).Json();
        Assert.Equal("Completed", first.GetProperty("rollout").GetProperty("status").GetString());
        Assert.All(new[] { "c1", "c2", "c3", "c4" }, c => Assert.Equal("1", Version(c)));
    }

    [Fact]
    public void A_wave_rollout_bakes_pauses_resumes_and_completes_with_the_dry_runs_fingerprint_and_the_actors_recorded()
    {
        DeployedFleet();
        Deliver(2);

        var before = _ws.Snapshot();
        var plan = Run("update", "--dry-run", "--output", "json").Exits(0).Json();
        before.AssertUnchanged(_ws.Snapshot(), "update --dry-run");
        var planned = plan.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(["canary", "rest"], planned.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal(["c1"], planned[0].GetProperty("connectors").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(3, planned[1].GetProperty("count").GetInt32());
        Assert.Equal(1000, planned[0].GetProperty("bakeTimeMs").GetInt64());
        var fingerprint = plan.GetProperty("fingerprint").GetString();
        Assert.False(string.IsNullOrEmpty(fingerprint));

        // One tick: the canary is deployed, verified and bakes; nobody else is touched. Exit 0.
        var tick = Run("update", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Baking", tick.GetProperty("status").GetString());
        Assert.Equal("2", tick.GetProperty("target").GetString());
        Assert.Equal(0, tick.GetProperty("wave").GetInt32());
        Assert.Equal(fingerprint, tick.GetProperty("fingerprint").GetString());
        var canary = tick.GetProperty("waves")[0];
        Assert.Equal(1, canary.GetProperty("connectors").GetInt32());
        Assert.Equal(1, canary.GetProperty("updated").GetInt32());
        Assert.Equal("Baking", canary.GetProperty("status").GetString());
        Assert.Equal("2", Version("c1"));
        Assert.Equal("1", Version("c2"));

        var status = Run("rollout", "status", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Baking", status.GetProperty("status").GetString());
        Assert.True(status.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.String, status.GetProperty("bakeUntil").ValueKind);

        // Paused by alice: ticks after the bake change nothing and exit 0.
        var paused = Run("rollout", "pause", "--reason", "watching the canary", "--actor", "alice", "--output", "json").Exits(0).Json();
        Assert.Equal("Paused", paused.GetProperty("rollout").GetProperty("status").GetString());
        Assert.Equal("alice", paused.GetProperty("actor").GetString());
        var whilePaused = Run("update", "--wait", "--poll-interval", "0", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Paused", whilePaused.GetProperty("status").GetString());
        Assert.Equal("1", Version("c2"));

        // Resumed by the OS user ($USER of the process): the wait ticks through the gate and the last wave.
        Run("rollout", "resume").Exits(0);
        var waited = Run("update", "--wait");
        Assert.Equal(0, waited.ExitCode);
        Assert.Matches(@"build 2 wave 2/2 .*Completed", waited.Stdout);
        Assert.All(new[] { "c1", "c2", "c3", "c4" }, c => Assert.Equal("2", Version(c)));

        var done = Run("rollout", "status", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Completed", done.GetProperty("status").GetString());
        Assert.False(done.GetProperty("active").GetBoolean());
        Assert.Equal(["Passed", "Passed"], done.GetProperty("waves").EnumerateArray().Select(w => w.GetProperty("status").GetString()));
        var commands = done.GetProperty("commands").EnumerateArray().ToList();
        Assert.Equal(["Pause", "Resume"], commands.Select(c => c.GetProperty("action").GetString()));
        Assert.Equal(["alice", "tester"], commands.Select(c => c.GetProperty("actor").GetString()));
        Assert.Equal("watching the canary", commands[0].GetProperty("reason").GetString());

        // Nothing is active any more: operator commands are a conflict.
        var none = Run("rollout", "promote", "--output", "json").Exits(3);
        Assert.Equal("conflict", none.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public void An_unhealthy_canary_halts_and_rolls_back_by_itself_and_the_other_connectors_never_get_the_build()
    {
        DeployedFleet();
        Deliver(2);
        Health("c1", "Unhealthy", "device messages failing");

        var run = Run("update", "--wait", "--output", "json").Exits(1).Json();
        var rollout = run.GetProperty("rollout");
        Assert.Equal("RolledBack", rollout.GetProperty("status").GetString());
        Assert.Contains("device messages failing", rollout.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, rollout.GetProperty("waves")[0].GetProperty("unhealthy").GetInt32());
        Assert.Equal(0, rollout.GetProperty("waves")[1].GetProperty("updated").GetInt32());
        Assert.All(new[] { "c1", "c2", "c3", "c4" }, c => Assert.Equal("1", Version(c)));
        Assert.All(new[] { "c2", "c3", "c4" }, c => Assert.Contains("\"build\": 1", _ws.DeployedFunction(c), StringComparison.Ordinal));

        var status = Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal("2", Assert.Single(status.GetProperty("invalidated").EnumerateArray()).GetProperty("build").GetString());
        Assert.Equal("RolledBack", status.GetProperty("rollout").GetProperty("status").GetString());

        // The next check does not try build 2 again.
        var next = Run("update", "--output", "json").Exits(0).Json();
        Assert.Equal("1", next.GetProperty("target").GetString());
        Assert.Equal("1", Version("c1"));
    }

    [Fact]
    public void A_canary_without_health_data_pauses_the_rollout_and_a_promote_lets_it_go_on()
    {
        DeployedFleet();
        Deliver(2);
        File.Delete(Path.Combine(_ws.Root, "connectors", "c1", "health.json"));

        var paused = Run("update", "--wait", "--poll-interval", "0", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Paused", paused.GetProperty("status").GetString());
        Assert.Contains("no health data", paused.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
        Assert.Equal("1", Version("c2"));

        var text = Run("rollout", "status").Exits(0).Stdout;
        Assert.Contains("PAUSED", text, StringComparison.Ordinal);
        Assert.Contains("no health data", text, StringComparison.Ordinal);

        Run("rollout", "promote", "--reason", "metrics checked by hand", "--actor", "bob").Exits(0);
        var completed = Run("update", "--wait", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Completed", completed.GetProperty("status").GetString());
        Assert.Equal("bob", completed.GetProperty("commands")[0].GetProperty("actor").GetString());
        Assert.Equal("2", Version("c4"));
    }

    [Fact]
    public void An_abort_during_the_bake_restores_the_canary_only()
    {
        DeployedFleet();
        Deliver(2);
        Assert.Equal("Baking", Run("update", "--output", "json").Exits(0).Json().GetProperty("rollout").GetProperty("status").GetString());

        Run("rollout", "abort", "--reason", "wrong config shipped", "--actor", "carol").Exits(0);
        var aborted = Run("update", "--wait", "--output", "json").Exits(1).Json().GetProperty("rollout");
        Assert.Equal("RolledBack", aborted.GetProperty("status").GetString());
        Assert.All(new[] { "c1", "c2", "c3", "c4" }, c => Assert.Equal("1", Version(c)));
        var invalidation = Assert.Single(Run("status", "--output", "json").Exits(0).Json().GetProperty("invalidated").EnumerateArray());
        Assert.Equal("2", invalidation.GetProperty("build").GetString());
    }

    [Fact]
    public void Pinned_and_excluded_connectors_are_left_alone_and_shown_against_their_pin()
    {
        DeployedFleet();
        Run("connectors", "pin", "c2", "--build", "1", "--reason", "customer validation", "--actor", "alice").Exits(0);
        Run("connectors", "pin", "c3", "--exclude", "--reason", "migration").Exits(0);
        var unknown = Run("connectors", "pin", "ghost", "--exclude", "--reason", "x", "--output", "json").Exits(4);
        Assert.Equal("notFound", unknown.Json().GetProperty("error").GetProperty("kind").GetString());
        Deliver(2);

        var plan = Run("update", "--dry-run", "--output", "json").Exits(0).Json();
        Assert.Equal(["c2"], plan.GetProperty("pinned").EnumerateArray().Select(p => p.GetProperty("connector").GetString()));
        Assert.Equal(["c3"], plan.GetProperty("excluded").EnumerateArray().Select(p => p.GetProperty("connector").GetString()));

        Run("update", "--wait").Exits(0);
        Assert.Equal("1", Version("c2"));
        Assert.Equal("1", Version("c3"));
        Assert.Equal("2", Version("c4"));

        var verify = Run("verify", "--output", "json").Exits(0).Json();
        var pins = verify.GetProperty("pins").EnumerateArray().ToList();
        Assert.Equal(["c2", "c3"], pins.Select(p => p.GetProperty("connector").GetString()));
        Assert.Equal("1", pins[0].GetProperty("build").GetString());
        Assert.Equal("alice", pins[0].GetProperty("actor").GetString());
        Assert.True(pins[0].GetProperty("onPin").GetBoolean());
        Assert.True(pins[1].GetProperty("excluded").GetBoolean());
        Assert.Equal("tester", pins[1].GetProperty("actor").GetString());

        var status = Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal(2, status.GetProperty("pins").GetArrayLength());
        Assert.Equal(["c3"], status.GetProperty("fleet").GetProperty("excluded").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("c2: pinned to build 1, PROJECT_VERSION 1", Run("status").Exits(0).Stdout, StringComparison.Ordinal);

        var unpinned = Run("connectors", "unpin", "c2", "--output", "json").Exits(0).Json();
        Assert.True(unpinned.GetProperty("changed").GetBoolean());
        Assert.False(Run("connectors", "unpin", "c2", "--output", "json").Exits(0).Json().GetProperty("changed").GetBoolean());
        Run("update").Exits(0);
        Assert.Equal("2", Version("c2"));
        Assert.Equal("1", Version("c3"));
    }

    [Fact]
    public void A_wave_that_requires_approval_stops_the_wait_until_an_operator_promotes_it()
    {
        _ws.WriteFile("waves.json", """
            { "Rollout": { "Waves": [
              { "Name": "canary", "Connectors": ["c1"], "RequireHealth": false },
              { "Name": "rest", "Percent": 100, "RequireApproval": true, "RequireHealth": false }
            ] } }
            """);
        Run("connectors", "add", "c1", "c2").Exits(0);
        Deliver(1);

        var awaiting = Run("update", "--wait", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("AwaitingApproval", awaiting.GetProperty("status").GetString());
        Assert.Equal("1", Version("c1"));
        Assert.Equal("(not set)", Version("c2"));

        Run("rollout", "promote", "--full").Exits(0);
        Assert.Equal("Completed", Run("update", "--wait", "--output", "json").Exits(0).Json().GetProperty("rollout").GetProperty("status").GetString());
        Assert.Equal("1", Version("c2"));
    }

    [Fact]
    public void Operator_commands_without_a_rollout_exit_3_and_pins_to_an_unknown_build_exit_4()
    {
        Run("connectors", "add", "c1").Exits(0);
        Deliver(1);

        var pause = Run("rollout", "pause", "--reason", "x");
        pause.Exits(3);
        Assert.Contains("iomt-deploy: error:", pause.Stderr, StringComparison.Ordinal);
        Assert.Contains("No progressive rollout has run yet", Run("rollout", "status").Exits(0).Stdout, StringComparison.Ordinal);
        Run("connectors", "pin", "c1", "--build", "9", "--reason", "x").Exits(4);
    }

    [Fact]
    public async Task Cancelling_update_wait_during_a_bake_exits_130_says_where_the_rollout_stands_and_loses_nothing()
    {
        _ws.WriteFile("waves.json", """
            { "Rollout": { "Waves": [
              { "Name": "canary", "Connectors": ["c1"], "BakeTime": "01:00:00", "RequireHealth": false },
              { "Name": "rest", "Percent": 100, "RequireHealth": false }
            ] } }
            """);
        Run("connectors", "add", "c1", "c2").Exits(0);
        Deliver(1);

        // In-process, so that the test holds the cancellation (Ctrl+C) of the running command.
        var stdout = new StringWriter();
        var synchronizedOut = TextWriter.Synchronized(stdout);
        var stderr = new StringWriter();
        var console = new CliConsole { Out = synchronizedOut, Error = TextWriter.Synchronized(stderr), Environment = new Dictionary<string, string?> { ["USER"] = "tester" } };
        using var ctrlC = new CancellationTokenSource();
        var run = CliApplication.RunAsync(["update", "--wait", "--root", _ws.Root, "--config", _config], console, ctrlC.Token);

        // The first tick deploys the canary and reports the bake; the wait for its end is what gets cancelled.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!stdout.ToString().Contains("Baking until", StringComparison.Ordinal) && !run.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False(run.IsCompleted, $"update --wait ended before the bake: {stdout}{stderr}");
        await ctrlC.CancelAsync();
        Assert.Equal(130, await run);
        Assert.Contains("BAKING, wave 1/2", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("stopped waiting (cancelled)", stderr.ToString(), StringComparison.Ordinal);

        var status = Run("rollout", "status", "--output", "json").Exits(0).Json().GetProperty("rollout");
        Assert.Equal("Baking", status.GetProperty("status").GetString());
        Assert.Equal("1", Version("c1"));
        Assert.Equal("(not set)", Version("c2"));
    }
}
