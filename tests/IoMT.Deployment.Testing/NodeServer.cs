using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace IoMT.Deployment.Testing;

/// <summary>
/// A node process that serves on a loopback port, started for a test assembly and killed (with its children) on dispose.
/// Readiness is a TCP connect to the port, polled until a deadline.
/// </summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; }

    /// <summary>What the server printed so far (stdout and stderr), for diagnostics.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>node script args…</c> and waits until <paramref name="port"/> accepts connections.</summary>
    public static async Task<NodeServer> StartAsync(string script, IEnumerable<string> arguments, int port, TimeSpan? readyTimeout = null, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var node = FindNode();
        var psi = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(script)!,
        };
        psi.ArgumentList.Add(script);
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {node} {script}.");
        var server = new NodeServer(process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + (readyTimeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited)
            {
                var output = server.Output;
                await server.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{Path.GetFileName(script)} exited with code {process.ExitCode} before listening on port {port}:\n{output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
                return server;
            }
            catch (SocketException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                var output = server.Output;
                await server.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"{Path.GetFileName(script)} did not listen on port {port} within {readyTimeout ?? TimeSpan.FromSeconds(60)}:\n{output}");
            }

            // Polling a socket for readiness, not waiting for correctness.
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private static string FindNode()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "node");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("node is not on PATH; the test servers (Azurite, cosmosdb-server) need Node.js 20 or later.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }
}
