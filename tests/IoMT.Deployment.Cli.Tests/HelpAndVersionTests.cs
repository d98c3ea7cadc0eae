namespace IoMT.Deployment.Cli.Tests;

/// <summary><c>--version</c> and <c>--help</c> of the real tool.</summary>
public sealed class HelpAndVersionTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Version_prints_the_package_version()
    {
        var run = _ws.RunBare(null, "--version").Exits(0);
        // The informational version is the package version (VersionPrefix, or -p:Version / VersionSuffix), without "+commit".
        var expected = typeof(IoMT.Deployment.Cli.CliApplication).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", expected);
        Assert.Equal(expected, run.Stdout.Trim());
    }

    [Fact]
    public void Help_lists_every_command_and_the_exit_codes()
    {
        var run = _ws.RunBare(null, "--help").Exits(0);
        foreach (var command in new[] { "package", "deliver", "status", "update", "rollback", "invalidate", "reinstate", "verify", "connectors", "rollout" })
        {
            Assert.Contains("  " + command, run.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("Usage:\n  iomt-deploy [command] [options]", run.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("Exit codes: 0 success (update: also while a progressive rollout runs, bakes, awaits approval or is paused); 1 ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 the operation ran but some connectors failed or differ (update: the rollout halted or was rolled back)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("IOMT_DEPLOY__", run.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_ws.Folder, ".iomt")));
    }
}
