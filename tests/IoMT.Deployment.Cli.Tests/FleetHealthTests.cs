using System.Text.Json;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>Stragglers, failed and deleted connectors, and a broken state: exit codes 1, 3 and 5 and what the on-call engineer sees.</summary>
public sealed class FleetHealthTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Verify_and_status_name_a_straggler_exit_1_and_the_next_update_brings_it_back()
    {
        _ws.Run("connectors", "add", "c1", "c2", "c3").Exits(0);
        _ws.Run("deliver", _ws.MakeFunction(1), "--build", "1").Exits(0);
        _ws.Run("deliver", _ws.MakeFunction(2), "--build", "2").Exits(0);
        _ws.Run("update").Exits(0);
        _ws.WriteSettings("c2", """{ "PROJECT_VERSION": "1" }""");

        var verify = _ws.Run("verify", "--output", "json").Exits(1).Json();
        Assert.False(verify.GetProperty("allVerified").GetBoolean());
        var mismatch = Assert.Single(verify.GetProperty("connectors").EnumerateArray(), c => c.GetProperty("outcome").GetString() == "Mismatch");
        Assert.Equal("c2", mismatch.GetProperty("connector").GetString());
        Assert.Equal("1", mismatch.GetProperty("projectVersion").GetString());

        var text = _ws.Run("verify").Exits(1);
        Assert.Contains("c2: Mismatch, PROJECT_VERSION 1", text.Stdout, StringComparison.Ordinal);

        var fleet = _ws.Run("status", "--output", "json").Exits(0).Json().GetProperty("fleet");
        Assert.Equal(2, fleet.GetProperty("onCurrent").GetInt32());
        var straggler = Assert.Single(fleet.GetProperty("stragglers").EnumerateArray());
        Assert.Equal("c2", straggler.GetProperty("connector").GetString());
        var byVersion = fleet.GetProperty("byVersion").EnumerateArray().ToDictionary(g => g.GetProperty("version").GetString()!, g => g.GetProperty("count").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["2"] = 2, ["1"] = 1 }, byVersion);

        var update = _ws.Run("update", "--output", "json").Exits(0).Json();
        Assert.Equal("Straggler", update.GetProperty("kind").GetString());
        var updated = Assert.Single(update.GetProperty("connectors").EnumerateArray(), c => c.GetProperty("outcome").GetString() == "Updated");
        Assert.Equal("c2", updated.GetProperty("connector").GetString());
        Assert.Equal("1", updated.GetProperty("previousVersion").GetString());
        _ws.Run("verify").Exits(0);

        // A build that is invalidated cannot be the target of rollback --to: conflict with the state, nothing changed.
        _ws.Run("invalidate", "1", "--reason", "leaks memory", "--actor", "bob").Exits(0);
        var before = _ws.Snapshot();
        Assert.Contains("Reinstate it first", _ws.Run("rollback", "--to", "1", "--reason", "bad").Exits(3).Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "rollback --to an invalidated build");
    }

    [Fact]
    public void A_failing_connector_exits_1_keeps_the_build_in_flight_and_a_deleted_one_is_skipped()
    {
        _ws.Run("connectors", "add", "c1", "c2", "c3").Exits(0);
        _ws.Run("deliver", _ws.MakeFunction(1), "--build", "1").Exits(0);
        _ws.Run("update").Exits(0);
        _ws.Run("deliver", _ws.MakeFunction(2), "--build", "2").Exits(0);
        _ws.WriteSettings("c2", "{ not json");
        Directory.Delete(Path.Combine(_ws.Root, "connectors", "c3"), recursive: true);

        // Text mode with stdout redirected: one plain progress line per connector, then the summary.
        var failed = _ws.Run("update").Exits(1);
        Assert.Matches(@"\[\d/3\] c1: Updated", failed.Stdout);
        Assert.Matches(@"\[\d/3\] c2: Failed", failed.Stdout);
        Assert.Matches(@"\[\d/3\] c3: Deleted", failed.Stdout);
        Assert.Contains("INCOMPLETE", failed.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 updated, 0 already current, 1 deleted, 1 failed", failed.Stdout, StringComparison.Ordinal);

        var status = _ws.Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal("1", status.GetProperty("current").GetString());
        Assert.Equal("2", status.GetProperty("inFlight").GetString());
        Assert.Equal(["c3"], status.GetProperty("fleet").GetProperty("deleted").EnumerateArray().Select(c => c.GetString()));

        _ws.WriteSettings("c2", "{}");
        var retried = _ws.Run("update", "--output", "json").Exits(0).Json();
        Assert.True(retried.GetProperty("succeeded").GetBoolean());
        status = _ws.Run("status", "--output", "json").Exits(0).Json();
        Assert.Equal("2", status.GetProperty("current").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("inFlight").ValueKind);
    }

    [Fact]
    public void A_corrupt_state_is_an_unexpected_error_with_its_stack_trace_only_when_verbose()
    {
        Directory.CreateDirectory(_ws.Root);
        File.WriteAllText(Path.Combine(_ws.Root, "state.json"), "{ corrupt");

        var quiet = _ws.Run("status", "--output", "json").Exits(5);
        Assert.Contains("state.json' is corrupt", quiet.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", quiet.Stderr, StringComparison.Ordinal);
        Assert.Equal("unexpected", quiet.Json().GetProperty("error").GetProperty("kind").GetString());

        var verbose = _ws.Run("status", "--verbose").Exits(5);
        Assert.Contains("   at ", verbose.Stderr, StringComparison.Ordinal);
    }
}
