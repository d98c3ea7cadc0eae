using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.ProcessTests;

/// <summary>What one run of a short-lived process did.</summary>
public sealed record ProcessRun(IReadOnlyList<string> Arguments, int ExitCode, string Stdout, string Stderr)
{
    public System.Text.Json.JsonElement Json()
    {
        using var document = System.Text.Json.JsonDocument.Parse(Stdout);
        return document.RootElement.Clone();
    }

    public ProcessRun Exits(int expected) => ExitCode == expected
        ? this
        : throw new Xunit.Sdk.XunitException($"'{string.Join(' ', Arguments)}' exited {ExitCode}, expected {expected}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
}

/// <summary>The built entry assemblies of the tool and the worker host, run with <c>dotnet</c> from their own output folders.</summary>
public static class Built
{
    private static string Configuration => AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    public static string Cli => Require(Path.Combine(TestPaths.RepoRoot, "src", "IoMT.Deployment.Cli", "bin", Configuration, "net10.0", "iomt-deploy.dll"));

    public static string WorkerHost => Require(Path.Combine(TestPaths.RepoRoot, "samples", "WorkerHost", "bin", Configuration, "net10.0", "IoMT.Deployment.WorkerHost.dll"));

    public static string OperationsHost => Require(Path.Combine(TestPaths.RepoRoot, "samples", "OperationsHost", "bin", Configuration, "net10.0", "OperationsHost.dll"));

    private static string Require(string path) => File.Exists(path)
        ? path
        : throw new InvalidOperationException($"{path} is not built; build the solution (./test.sh does).");

    /// <summary>Runs a short-lived process to its end (90 s at most).</summary>
    public static ProcessRun Run(string dll, string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(dll, workingDirectory, environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new Xunit.Sdk.XunitException($"'{string.Join(' ', args)}' did not finish within 90 s.");
        }

        process.WaitForExit();
        return new ProcessRun(args, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static Process Start(string dll, string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("IOMT_DEPLOY__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("IoMTDeployment__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["USER"] = "tester";
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

        var process = Process.Start(psi)!;
        process.StandardInput.Close();
        return process;
    }
}

/// <summary>A long-running process (the worker host) whose output lines are kept and can be awaited; killed on dispose if still running.</summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];
    private readonly Lock _lock = new();
    private readonly Task _stdout;
    private readonly Task _stderr;

    public RunningProcess(Process process)
    {
        _process = process;
        _stdout = PumpAsync(process.StandardOutput);
        _stderr = PumpAsync(process.StandardError);
    }

    public string Output => string.Join('\n', _lines);

    public bool HasExited => _process.HasExited;

    /// <summary>Completes with the first output line (past or future) that matches.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }

            _waiters.Add((match, seen));
        }

        return seen.Task.WaitAsync(timeout);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Sends SIGTERM (as a container runtime or systemd does) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (SysKill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed ({Marshal.GetLastPInvokeError()}).");
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        await Task.WhenAll(_stdout, _stderr);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lock)
            {
                _lines.Enqueue(line);
                foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
                {
                    waiter.Seen.TrySetResult(line);
                    _waiters.Remove(waiter);
                }
            }
        }
    }
}
