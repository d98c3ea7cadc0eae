using System.Security.Cryptography;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The pipeline's delivery step: deterministic packages, immutable builds, bad packages refused without a trace.</summary>
public sealed class DeliveryTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Package_is_deterministic_and_prints_its_sha256()
    {
        var folder = _ws.MakeFunction(3);
        var first = Path.Combine(_ws.Folder, "a", "p.zip");
        var second = Path.Combine(_ws.Folder, "b", "p.zip");
        var run = _ws.RunBare(null, "package", folder, "--output", first, "--format", "json").Exits(0).Json();
        File.SetLastWriteTimeUtc(Path.Combine(folder, "host.json"), DateTime.UtcNow.AddDays(-3));
        _ws.RunBare(null, "package", folder, "-o", second).Exits(0);

        var bytes = File.ReadAllBytes(first);
        Assert.Equal(bytes, File.ReadAllBytes(second));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), run.GetProperty("sha256").GetString());
        Assert.Equal(3, run.GetProperty("files").GetInt32());
        Assert.Equal(Path.GetFullPath(first), run.GetProperty("file").GetString());
    }

    [Fact]
    public void Delivered_builds_are_immutable_and_bad_packages_leave_the_root_unchanged()
    {
        var folder = _ws.MakeFunction(1);
        var zip = Path.Combine(_ws.Folder, "one.zip");
        _ws.RunBare(null, "package", folder, "--output", zip).Exits(0);
        _ws.Run("deliver", folder, "--build", "1").Exits(0);
        var before = _ws.Snapshot();
        Assert.True(before.Count > 2, "the first delivery wrote the build and its hash");

        // The same bytes again (from the zip this time) is a no-op.
        var again = _ws.Run("deliver", zip, "--build", "1", "--output", "json").Exits(0).Json();
        Assert.Equal("AlreadyDelivered", again.GetProperty("outcome").GetString());
        Assert.False(again.GetProperty("written").GetBoolean());
        before.AssertUnchanged(_ws.Snapshot(), "re-delivering the same bytes");

        // Other bytes under the same build number: conflict, nothing written.
        var conflict = _ws.Run("deliver", _ws.MakeFunction(1, "changed"), "--build", "1", "--output", "json").Exits(3);
        Assert.Contains("already delivered with different content", conflict.Stderr, StringComparison.Ordinal);
        Assert.Equal("conflict", conflict.Json().GetProperty("error").GetProperty("kind").GetString());
        before.AssertUnchanged(_ws.Snapshot(), "a conflicting delivery");

        // Not a zip: refused, naming the problem.
        var garbage = _ws.WriteFile("garbage.zip", "this is not a zip file");
        var invalid = _ws.Run("deliver", garbage, "--build", "2").Exits(2);
        Assert.Contains("not a valid zip", invalid.Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "delivering an invalid zip");

        // An unparseable build number: refused, naming the flag and the value.
        var unparseable = _ws.Run("deliver", folder, "--build", "2.01").Exits(2);
        Assert.Contains("--build", unparseable.Stderr, StringComparison.Ordinal);
        Assert.Contains("'2.01' is not a valid build number", unparseable.Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "delivering with an unparseable build number");

        // A package path that does not exist, and an empty folder.
        Assert.Contains("does not exist", _ws.Run("deliver", Path.Combine(_ws.Folder, "missing"), "--build", "2").Exits(2).Stderr, StringComparison.Ordinal);
        var empty = Directory.CreateDirectory(Path.Combine(_ws.Folder, "empty")).FullName;
        Assert.Contains("holds no file", _ws.Run("deliver", empty, "--build", "2").Exits(2).Stderr, StringComparison.Ordinal);
        before.AssertUnchanged(_ws.Snapshot(), "delivering a missing path or an empty folder");
    }
}
