using System.Diagnostics;
using System.Text.Json;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>What one run of the tool did.</summary>
public sealed record CliRun(IReadOnlyList<string> Arguments, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Parses stdout as one JSON document.</summary>
    public JsonElement Json()
    {
        try
        {
            using var document = JsonDocument.Parse(Stdout);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"stdout of '{string.Join(' ', Arguments)}' is not JSON ({ex.Message}):\n{Stdout}\nstderr:\n{Stderr}");
        }
    }

    /// <summary>Asserts the exit code, showing both streams when it differs.</summary>
    public CliRun Exits(int expected)
    {
        if (ExitCode != expected)
        {
            throw new Xunit.Sdk.XunitException($"'iomt-deploy {string.Join(' ', Arguments)}' exited {ExitCode}, expected {expected}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return this;
    }
}

/// <summary>Runs the real <c>iomt-deploy</c> as a process: <c>dotnet iomt-deploy.dll …</c> from the test's output folder.</summary>
public static class CliProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The tool's entry assembly, copied next to the tests by the project reference.</summary>
    public static string ToolPath { get; } = FindTool();

    /// <summary>Runs the tool.</summary>
    /// <param name="workingDirectory">The process's current directory.</param>
    /// <param name="environment">Variables to set (a null value removes one).</param>
    /// <param name="args">The arguments.</param>
    public static CliRun Run(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ToolPath);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        // The tests' own settings only: nothing inherited from the machine.
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("IOMT_DEPLOY__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["USER"] = "tester";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    psi.Environment.Remove(name);
                }
                else
                {
                    psi.Environment[name] = value;
                }
            }
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new Xunit.Sdk.XunitException($"'iomt-deploy {string.Join(' ', args)}' did not finish within {Timeout}.");
        }

        process.WaitForExit();
        return new CliRun(args, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private static string FindTool()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "iomt-deploy.dll");
        if (!File.Exists(path) || !File.Exists(Path.Combine(AppContext.BaseDirectory, "iomt-deploy.runtimeconfig.json")))
        {
            throw new InvalidOperationException($"iomt-deploy.dll and its runtimeconfig.json are not in {AppContext.BaseDirectory}; the test project must reference src/IoMT.Deployment.Cli.");
        }

        return path;
    }
}
