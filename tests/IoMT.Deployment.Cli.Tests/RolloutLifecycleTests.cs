using System.Security.Cryptography;
using System.Text.Json;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The operator's and the pipeline's whole story on one local root, through the real tool.</summary>
public sealed class RolloutLifecycleTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Deliver_update_rollback_reinstate_and_rollback_to_a_named_build_drive_the_fleet()
    {
        _ws.Run("connectors", "add", "c1", "c2", "c3").Exits(0);
        _ws.WriteSettings("c1", """{ "IOMT_CUSTOM": "kept" }""");

        // Deliver 1 from a folder, 2 from a deterministic zip, 10 from a folder.
        Assert.Equal("Delivered", _ws.Run("deliver", _ws.MakeFunction(1), "--build", "1", "--output", "json").Exits(0).Json().GetProperty("outcome").GetString());
        var zip = Path.Combine(_ws.Folder, "out", "build2.zip");
        var packaged = _ws.Run("package", _ws.MakeFunction(2), "--output", zip).Exits(0);
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(zip)));
        Assert.Contains(sha, packaged.Stdout, StringComparison.Ordinal);
        var delivered2 = _ws.Run("deliver", zip, "--build", "2", "--output", "json").Exits(0).Json();
        Assert.Equal(sha, delivered2.GetProperty("sha256").GetString());
        _ws.Run("deliver", _ws.MakeFunction(10), "--build", "10").Exits(0);
        Assert.True(File.Exists(Path.Combine(_ws.Root, "artifacts", "10.zip")));

        var status = _ws.Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal(JsonValueKind.Null, status.GetProperty("current").ValueKind);
        Assert.Equal("10", status.GetProperty("candidate").GetString());
        Assert.Equal(["1", "2", "10"], status.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("build").GetString()));

        // A dry run plans build 10 on every connector and changes nothing.
        var before = _ws.Snapshot();
        var plan = _ws.Run("update", "--dry-run", "--output", "json").Exits(0).Json();
        before.AssertUnchanged(_ws.Snapshot(), "update --dry-run");
        Assert.Equal("10", plan.GetProperty("target").GetString());
        Assert.Equal(["c1", "c2", "c3"], plan.GetProperty("toUpdate").EnumerateArray().Select(c => c.GetProperty("connector").GetString()));
        Assert.Empty(plan.GetProperty("skipped").EnumerateArray());

        // The update deploys 10 everywhere, sets PROJECT_VERSION and keeps the other settings.
        var update = _ws.Run("update", "--max-parallel", "2", "--output", "json").Exits(0).Json();
        Assert.True(update.GetProperty("succeeded").GetBoolean());
        Assert.Equal("Update", update.GetProperty("kind").GetString());
        Assert.Equal(3, update.GetProperty("totals").GetProperty("Updated").GetInt32());
        foreach (var c in new[] { "c1", "c2", "c3" })
        {
            Assert.Contains("\"build\": 10", _ws.DeployedFunction(c), StringComparison.Ordinal);
            Assert.Equal("10", (string?)_ws.Settings(c)["PROJECT_VERSION"]);
        }

        Assert.Equal("kept", (string?)_ws.Settings("c1")["IOMT_CUSTOM"]);

        // A second update changes nothing (the history records the run).
        var afterUpdate = _ws.Snapshot("history.json");
        var second = _ws.Run("update", "--output", "json").Exits(0).Json();
        afterUpdate.AssertUnchanged(_ws.Snapshot("history.json"), "a second update");
        Assert.Equal("Straggler", second.GetProperty("kind").GetString());
        Assert.Equal(3, second.GetProperty("totals").GetProperty("AlreadyCurrent").GetInt32());

        // The pipeline delivers unchanged content with --if-changed: skipped, nothing written.
        var unchanged = _ws.Run("deliver", _ws.MakeFunction(10), "--build", "11", "--if-changed");
        Assert.Contains("unchanged", unchanged.Exits(0).Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_ws.Root, "artifacts", "11.zip")));
        afterUpdate.AssertUnchanged(_ws.Snapshot("history.json"), "deliver --if-changed of unchanged content");

        // Rollback: 10 is invalidated, the fleet goes to 2.
        var rollback = _ws.Run("rollback", "--reason", "alarms on 10", "--actor", "alice", "--output", "json").Exits(0).Json();
        Assert.Equal("Rollback", rollback.GetProperty("kind").GetString());
        Assert.Equal("2", rollback.GetProperty("target").GetString());
        Assert.Contains("\"build\": 2", _ws.DeployedFunction("c2"), StringComparison.Ordinal);

        // The next update does not redeploy the invalidated build.
        var afterRollback = _ws.Run("update", "--output", "json").Exits(0).Json();
        Assert.Equal("2", afterRollback.GetProperty("target").GetString());
        Assert.Equal(0, afterRollback.GetProperty("totals").GetProperty("Updated").GetInt32());
        Assert.Equal("2", (string?)_ws.Settings("c3")["PROJECT_VERSION"]);

        status = _ws.Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal("2", status.GetProperty("current").GetString());
        var invalidated = Assert.Single(status.GetProperty("invalidated").EnumerateArray());
        Assert.Equal("10", invalidated.GetProperty("build").GetString());
        Assert.Equal("alarms on 10", invalidated.GetProperty("reason").GetString());
        Assert.Equal("alice", invalidated.GetProperty("actor").GetString());

        // Reinstate: the next update rolls 10 out again.
        Assert.True(_ws.Run("reinstate", "10", "--output", "json").Exits(0).Json().GetProperty("changed").GetBoolean());
        var again = _ws.Run("update", "--output", "json").Exits(0).Json();
        Assert.Equal("10", again.GetProperty("target").GetString());
        Assert.Equal(3, again.GetProperty("totals").GetProperty("Updated").GetInt32());

        // Rollback to a named build invalidates every build between; the actor defaults to $USER.
        var rollbackTo = _ws.Run("rollback", "--to", "1", "--reason", "both bad", "--output", "json").Exits(0).Json();
        Assert.Equal("1", rollbackTo.GetProperty("target").GetString());
        Assert.Contains("\"build\": 1", _ws.DeployedFunction("c1"), StringComparison.Ordinal);
        status = _ws.Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal("1", status.GetProperty("current").GetString());
        Assert.Equal(["2", "10"], status.GetProperty("invalidated").EnumerateArray().Select(i => i.GetProperty("build").GetString()));
        Assert.All(status.GetProperty("invalidated").EnumerateArray(), i => Assert.Equal("tester", i.GetProperty("actor").GetString()));
        var fleet = status.GetProperty("fleet");
        Assert.Equal(3, fleet.GetProperty("onCurrent").GetInt32());
        Assert.Empty(fleet.GetProperty("stragglers").EnumerateArray());

        var verify = _ws.Run("verify", "--output", "json").Exits(0).Json();
        Assert.True(verify.GetProperty("allVerified").GetBoolean());
        Assert.Equal("1", verify.GetProperty("expected").GetString());
    }
}
