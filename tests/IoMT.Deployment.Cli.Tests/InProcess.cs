namespace IoMT.Deployment.Cli.Tests;

/// <summary>Runs the tool's entry point inside the test process, with its own writers and environment.</summary>
public static class InProcess
{
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var console = new CliConsole
        {
            Out = stdout,
            Error = stderr,
            IsOutputRedirected = true,
            Environment = environment ?? new Dictionary<string, string?>(),
        };
        var exitCode = await CliApplication.RunAsync(args, console);
        return new CliRun(args, exitCode, stdout.ToString(), stderr.ToString());
    }
}
