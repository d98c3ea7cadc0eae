using System.Diagnostics;
using System.Text;

namespace IoMT.Deployment.Packaging.Tests;

/// <summary>The result of one process run.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Stdout">What it wrote to standard output.</param>
/// <param name="Stderr">What it wrote to standard error.</param>
/// <param name="CommandLine">What ran, for messages.</param>
public sealed record ProcessRun(int ExitCode, string Stdout, string Stderr, string CommandLine)
{
    /// <summary>Asserts the exit code, showing the output when it differs.</summary>
    /// <returns>This run.</returns>
    public ProcessRun Exits(int expected)
    {
        Assert.True(ExitCode == expected, $"`{CommandLine}` exited {ExitCode}, expected {expected}.\nstdout:\n{Tail(Stdout)}\nstderr:\n{Tail(Stderr)}");
        return this;
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}

/// <summary>Runs <c>dotnet</c> and other programs as child processes, bounded in time, the whole tree killed on a time-out.</summary>
public static class DotnetProcess
{
    /// <summary>The <c>dotnet</c> host running these tests.</summary>
    public static string Dotnet { get; } = FindDotnet();

    /// <summary>Runs <c>dotnet</c> with the arguments.</summary>
    public static ProcessRun Run(string workingDirectory, TimeSpan timeout, params string[] args) =>
        Start(Dotnet, workingDirectory, timeout, null, args);

    /// <summary>Runs a program with the arguments.</summary>
    public static ProcessRun Start(string fileName, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A child build must not inherit the MSBuild of the `dotnet test` that runs us.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBUILD", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Dotnet);
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var commandLine = fileName + " " + string.Join(' ', args);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {commandLine}.");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"`{commandLine}` did not finish within {timeout}.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }

        process.WaitForExit(); // drains the output
        return new ProcessRun(process.ExitCode, stdout.ToString(), stderr.ToString(), commandLine);
    }

    private static string FindDotnet()
    {
        // The test host is dotnet itself (`dotnet test`), else find it beside the runtime.
        var host = Environment.ProcessPath;
        if (host is not null && Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return host;
        }

        var fromRuntime = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
