using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace IoMT.Deployment.Testing;

/// <summary>What a <see cref="TcpRelay"/> does with the traffic.</summary>
public enum RelayMode
{
    /// <summary>Passes bytes both ways.</summary>
    Forward,

    /// <summary>Takes the bytes clients send and never answers, on open connections and new ones: a peer that hangs.</summary>
    Hold,

    /// <summary>Resets every connection and every new one at once: a peer that is down.</summary>
    Reset,
}

/// <summary>
/// A loopback TCP relay in front of a test server, switchable between forwarding, holding bytes without answering and
/// resetting connections: the client under test points at <see cref="Port"/>, the test talks to the server directly.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, Socket?> _connections = new();
    private readonly Task _accepting;
    private volatile RelayMode _mode = RelayMode.Forward;
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _heldBytes;

    private TcpRelay(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the port clients connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets how many bytes were taken and not passed on since the relay last switched to <see cref="RelayMode.Hold"/>.</summary>
    public long HeldBytes => Interlocked.Read(ref _heldBytes);

    /// <summary>Gets a task that completes when the first bytes arrive after the relay last switched to <see cref="RelayMode.Hold"/>.</summary>
    public Task BytesHeld => Volatile.Read(ref _held).Task;

    /// <summary>Gets or sets what the relay does with the traffic; <see cref="RelayMode.Reset"/> also resets the open connections.</summary>
    public RelayMode Mode
    {
        get => _mode;
        set
        {
            if (value == RelayMode.Hold && _mode != RelayMode.Hold)
            {
                Interlocked.Exchange(ref _heldBytes, 0);
                Volatile.Write(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            _mode = value;
            if (value == RelayMode.Reset)
            {
                foreach (var connection in _connections.Keys)
                {
                    Abort(connection);
                }
            }
        }
    }

    /// <summary>Starts a relay on a free loopback port to <c>127.0.0.1:<paramref name="targetPort"/></c>.</summary>
    public static TcpRelay Start(int targetPort) => new(targetPort);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var (client, server) in _connections)
        {
            Abort(client);
            if (server is not null)
            {
                Abort(server);
            }
        }

        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            if (_mode == RelayMode.Reset)
            {
                Abort(client);
                continue;
            }

            _connections[client] = null;
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        Socket? server = null;
        try
        {
            if (_mode == RelayMode.Forward)
            {
                server = await ConnectAsync();
                _connections[client] = server;
            }

            var up = PumpAsync(client, () => server, toServer: true);
            var down = server is null ? up : PumpAsync(server, () => client, toServer: false);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            _connections.TryRemove(client, out _);
            Abort(client);
            if (server is not null)
            {
                Abort(server);
            }
        }
    }

    private async Task<Socket> ConnectAsync()
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), _stop.Token);
        return server;
    }

    private async Task PumpAsync(Socket from, Func<Socket?> to, bool toServer)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }

            switch (_mode)
            {
                case RelayMode.Forward when to() is { } target:
                    await target.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                    break;
                case RelayMode.Reset:
                    return;
                default:
                    // Held: taken, never passed on, never answered.
                    if (toServer)
                    {
                        Interlocked.Add(ref _heldBytes, read);
                        Volatile.Read(ref _held).TrySetResult();
                    }

                    break;
            }
        }
    }
}
