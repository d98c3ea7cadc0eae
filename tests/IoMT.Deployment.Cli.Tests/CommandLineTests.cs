using System.Text.RegularExpressions;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The command-line contract, through the entry point in-process: help for every command, and parse errors as exit 2.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("package", "--output <file.zip>", "--format")]
    [InlineData("deliver", "--build <number>", "--if-changed")]
    [InlineData("status", "--output", "--max-parallel")]
    [InlineData("update", "--dry-run", "--max-parallel <N>")]
    [InlineData("rollback", "--to <build>", "--reason <text>")]
    [InlineData("invalidate", "<build>", "--actor <name>")]
    [InlineData("reinstate", "<build>", "--actor <name>")]
    [InlineData("verify", "--output", "Exit 1 when any differs")]
    [InlineData("connectors", "list", "remove")]
    [InlineData("connectors list", "--output", "--root <dir>")]
    [InlineData("connectors add", "<name>...", "--config <file.json>")]
    [InlineData("connectors remove", "<name>...", "--verbose")]
    [InlineData("connectors pin", "--build <build>", "--exclude")]
    [InlineData("connectors unpin", "<id>", "--actor <name>")]
    [InlineData("update", "--wait", "--poll-interval <seconds>")]
    [InlineData("rollout", "status", "promote")]
    [InlineData("rollout status", "--output", "--root <dir>")]
    [InlineData("rollout pause", "--reason <text>", "--actor <name>")]
    [InlineData("rollout resume", "--reason <text>", "--actor <name>")]
    [InlineData("rollout promote", "--full", "--reason <text>")]
    [InlineData("rollout abort", "--reason <text>", "invalidates its target")]
    public async Task Every_command_has_help(string command, string expected1, string expected2)
    {
        var run = (await InProcess.RunAsync(null, [.. command.Split(' '), "--help"])).Exits(0);
        // In-process the executable name is the test host's; the real tool's is checked by HelpAndVersionTests.
        Assert.Matches($@"Usage:\s+\S+ {Regex.Escape(command)} ", run.Stdout);
        Assert.Contains(expected1, run.Stdout, StringComparison.Ordinal);
        Assert.Contains(expected2, run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Required command was not provided")]
    [InlineData("Required command was not provided", "connectors")]
    [InlineData("Required argument missing for command: 'invalidate'", "invalidate", "--reason", "r")]
    [InlineData("Option '--reason' is required", "invalidate", "1")]
    [InlineData("--reason must not be empty", "invalidate", "1", "--reason", " ")]
    [InlineData("<build>: 'v1' is not a valid build number", "reinstate", "v1")]
    [InlineData("--to: '1..2' is not a valid build number", "rollback", "--to", "1..2", "--reason", "r")]
    [InlineData("Option '--build' is required", "deliver", "x.zip")]
    [InlineData("--max-parallel must be between 1 and 1024; 0 is not", "update", "--max-parallel", "0")]
    [InlineData("Cannot parse argument 'many' for option '--max-parallel'", "verify", "--max-parallel", "many")]
    [InlineData("Argument 'xml' not recognized", "status", "--output", "xml")]
    [InlineData("Argument 'gcp' not recognized", "status", "--provider", "gcp")]
    [InlineData("Unrecognized command or argument '--if-changed'", "package", "src", "-o", "x.zip", "--if-changed")]
    [InlineData("Required command was not provided", "rollout")]
    [InlineData("Option '--reason' is required", "rollout", "pause")]
    [InlineData("Option '--reason' is required", "rollout", "abort", "--actor", "alice")]
    [InlineData("--reason must not be empty", "rollout", "abort", "--reason", "  ")]
    [InlineData("Unrecognized command or argument '--full'", "rollout", "resume", "--full")]
    [InlineData("Give exactly one of --build <build> and --exclude.", "connectors", "pin", "c1", "--build", "3", "--exclude", "--reason", "r")]
    [InlineData("Give exactly one of --build <build> and --exclude.", "connectors", "pin", "c1", "--reason", "r")]
    [InlineData("Option '--reason' is required", "connectors", "pin", "c1", "--exclude")]
    [InlineData("--build: 'three' is not a valid build number", "connectors", "pin", "c1", "--build", "three", "--reason", "r")]
    [InlineData("Required argument missing for command: 'unpin'", "connectors", "unpin")]
    [InlineData("--dry-run and --wait cannot be combined", "update", "--dry-run", "--wait")]
    [InlineData("--poll-interval must be between 0 and 3600 seconds; 4000 is not", "update", "--wait", "--poll-interval", "4000")]
    public async Task Bad_command_lines_exit_2_with_the_problem_on_stderr(string expected, params string[] args)
    {
        var run = (await InProcess.RunAsync(null, args)).Exits(2);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public async Task A_bad_command_line_that_asks_for_json_gets_a_json_error()
    {
        var run = (await InProcess.RunAsync(null, "verify", "--output", "json", "--max-parallel", "0")).Exits(2);
        var error = run.Json().GetProperty("error");
        Assert.Equal(2, error.GetProperty("exitCode").GetInt32());
        Assert.Equal("badInput", error.GetProperty("kind").GetString());
        Assert.Contains("--max-parallel", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_connector_name_exits_2_and_creates_nothing()
    {
        var root = Path.Combine(Path.GetTempPath(), "iomt-cli-tests", Guid.NewGuid().ToString("N"));
        var run = (await InProcess.RunAsync(null, "connectors", "add", "ok", "../escape", "--root", root)).Exits(2);
        Assert.Contains("'../escape' is not a valid local connector name", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root));
    }
}
