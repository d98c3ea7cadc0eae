namespace IoMT.Deployment.Cli.Tests;

/// <summary>A deployed root (builds 1 and 2, connectors c1 and c2 on build 2) shared by tests that must each leave it unchanged.</summary>
public sealed class DeployedRootFixture : IDisposable
{
    public DeployedRootFixture()
    {
        Workspace = new Workspace();
        Workspace.Run("connectors", "add", "c1", "c2").Exits(0);
        Workspace.Run("deliver", Workspace.MakeFunction(1), "--build", "1").Exits(0);
        Workspace.Run("deliver", Workspace.MakeFunction(2), "--build", "2").Exits(0);
        Workspace.Run("update").Exits(0);
    }

    public Workspace Workspace { get; }

    public void Dispose() => Workspace.Dispose();
}

/// <summary>Exit codes 2, 3 and 4 on a deployed root; every refused command leaves the root byte-for-byte unchanged.</summary>
public sealed class ExitCodeTests : IClassFixture<DeployedRootFixture>
{
    private readonly Workspace _ws;

    public ExitCodeTests(DeployedRootFixture fixture) => _ws = fixture.Workspace;

    [Theory]
    [InlineData("Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("Unrecognized command or argument '--frob'", "update", "--frob")]
    [InlineData("--reason", "rollback", "--to", "1")]
    public void Bad_command_lines_exit_2(string expected, params string[] args)
    {
        var before = _ws.Snapshot();
        var run = _ws.Run(args).Exits(2);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), string.Join(' ', args));
    }

    [Theory]
    [InlineData("Cannot invalidate build 99", "invalidate", "99", "--reason", "bad")]
    [InlineData("Cannot roll back to build 99", "rollback", "--to", "99", "--reason", "bad")]
    [InlineData("Connector 'ghost' is not in", "connectors", "remove", "c1", "ghost")]
    public void Missing_builds_and_connectors_exit_4_and_change_nothing(string expected, params string[] args)
    {
        var before = _ws.Snapshot();
        var run = _ws.Run([.. args, "--output", "json"]).Exits(4);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        var error = run.Json().GetProperty("error");
        Assert.Equal(4, error.GetProperty("exitCode").GetInt32());
        Assert.Equal("notFound", error.GetProperty("kind").GetString());
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), string.Join(' ', args));
    }

    [Fact]
    public void A_root_that_does_not_exist_exits_4_and_is_not_created()
    {
        var missing = Path.Combine(_ws.Folder, "no-such-root");
        var run = _ws.RunBare(null, "update", "--root", missing).Exits(4);
        Assert.Contains($"The local root '{missing}' does not exist", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void A_held_rollout_lock_exits_3_and_changes_nothing()
    {
        var before = _ws.Snapshot();
        using (new FileStream(Path.Combine(_ws.Root, "rollout.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            Assert.Contains("Another rollout holds the rollout lock", _ws.Run("update").Exits(3).Stderr, StringComparison.Ordinal);
        }

        before.AssertUnchanged(_ws.Snapshot(), "update under a held lock");
    }

    [Fact]
    public void A_rollback_under_a_held_lock_invalidates_the_bad_build_waits_the_configured_time_and_exits_3()
    {
        // Its own root: unlike the refusals above, this rollback changes the state (the invalidation is what stops the holder).
        using var ws = new Workspace();
        ws.Run("connectors", "add", "c1").Exits(0);
        ws.Run("deliver", ws.MakeFunction(1), "--build", "1").Exits(0);
        ws.Run("deliver", ws.MakeFunction(2), "--build", "2").Exits(0);
        ws.Run("update").Exits(0);
        var config = ws.WriteFile("wait.json", """{ "Rollout": { "RollbackLockWait": "00:00:01" } }""");
        CliRun run;
        using (new FileStream(Path.Combine(ws.Root, "rollout.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            run = ws.Run("rollback", "--reason", "canary alerts", "--actor", "alice", "--config", config).Exits(3);
        }

        Assert.Contains("still holds the rollout lock after 0:00:01", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Build 2 is invalidated", run.Stderr, StringComparison.Ordinal);
        var status = ws.Run("status", "--output", "json").Exits(0).Stdout;
        Assert.Contains("canary alerts", status, StringComparison.Ordinal);
        Assert.Contains("alice", status, StringComparison.Ordinal);

        // With the lock free, the same rollback restores build 1.
        ws.Run("rollback", "--reason", "canary alerts", "--actor", "alice").Exits(0);
        ws.Run("verify").Exits(0);
    }

    [Fact]
    public void Rolling_back_to_a_build_that_is_not_older_exits_2()
    {
        var before = _ws.Snapshot();
        var run = _ws.Run("rollback", "--to", "2", "--reason", "bad").Exits(2);
        Assert.Contains("Cannot roll back to build 2: it is not older than build 2", run.Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "rollback --to the current build");
    }

    [Theory]
    [InlineData("MaxParallel (--max-parallel, IOMT_DEPLOY__MAXPARALLEL)", "IOMT_DEPLOY__MAXPARALLEL", "lots", null)]
    [InlineData("Provider (--provider, IOMT_DEPLOY__PROVIDER) must be 'local' or 'azure'", "IOMT_DEPLOY__PROVIDER", "gcp", null)]
    [InlineData("Local:MaxEntries must be positive", null, null, """{ "Local": { "MaxEntries": 0 } }""")]
    [InlineData("Rollout:StateWriteAttempts must be between 1 and 20", null, null, """{ "Rollout": { "StateWriteAttempts": 50 } }""")]
    [InlineData("is not valid JSON", null, null, """{ "Root": """)]
    public async Task Invalid_settings_exit_2_naming_the_setting(string expected, string? variable, string? value, string? configFile)
    {
        // In-process: the same entry point as the process, without its start-up cost.
        var before = _ws.Snapshot();
        var environment = variable is null ? null : new Dictionary<string, string?> { [variable] = value };
        var args = new List<string> { "update", "--root", _ws.Root };
        if (configFile is not null)
        {
            args.AddRange(["--config", _ws.WriteFile($"config-{Guid.NewGuid():N}.json", configFile)]);
        }

        var run = (await InProcess.RunAsync(environment, [.. args])).Exits(2);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "update with invalid settings");
    }
}
