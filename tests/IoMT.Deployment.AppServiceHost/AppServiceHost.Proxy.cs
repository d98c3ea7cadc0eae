using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IoMT.Deployment.Loopback;

/// <content>
/// An HTTP CONNECT proxy for processes: the scm host names (<c>*.scm.appservice.localhost</c>) do not resolve through DNS,
/// so a process started by a test sets <c>HTTPS_PROXY</c> (<see cref="ProxyEnvironment"/>) and the proxy connects every
/// <c>localhost</c>, <c>*.localhost</c> or <c>127.0.0.1</c> target to 127.0.0.1; any other target is refused. TLS stays
/// end to end (the proxy only relays bytes).
/// </content>
public sealed partial class AppServiceHost
{
    private TcpListener? _proxy;

    /// <summary>Gets the CONNECT proxy, <c>http://127.0.0.1:{port}</c>.</summary>
    public Uri ProxyEndpoint { get; private set; } = null!;

    /// <summary>Gets the environment that sends a process's HTTPS requests through <see cref="ProxyEndpoint"/>.</summary>
    public IReadOnlyDictionary<string, string?> ProxyEnvironment => new Dictionary<string, string?>
    {
        ["HTTPS_PROXY"] = ProxyEndpoint.AbsoluteUri,
        ["https_proxy"] = null,
        ["NO_PROXY"] = null,
        ["no_proxy"] = null,
    };

    private void StartProxy()
    {
        _proxy = new TcpListener(IPAddress.Loopback, 0);
        _proxy.Start();
        ProxyEndpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_proxy.LocalEndpoint).Port}");
        Track(AcceptProxyClientsAsync(_proxy));
    }

    private void StopProxy() => _proxy?.Stop();

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        _ = task.ContinueWith(t => _background.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task AcceptProxyClientsAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Track(RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream).ConfigureAwait(false);
                var parts = head?.Split(' ', 3);
                if (parts is not { Length: 3 } || !parts[0].Equals("CONNECT", StringComparison.Ordinal)
                    || !TryLoopbackTarget(parts[1], out var hostName, out var port) || IsScmUnreachable(hostName))
                {
                    await stream.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stopping.Token).ConfigureAwait(false);
                    return;
                }

                using var upstream = new TcpClient { NoDelay = true };
                await upstream.ConnectAsync(IPAddress.Loopback, port, _stopping.Token).ConfigureAwait(false);
                await stream.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), _stopping.Token).ConfigureAwait(false);
                var target = upstream.GetStream();
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var up = stream.CopyToAsync(target, done.Token);
                var down = target.CopyToAsync(stream, done.Token);
                await Task.WhenAny(up, down).ConfigureAwait(false);
                await done.CancelAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client or target that went away; nothing to answer.
            }
        }
    }

    private static bool TryLoopbackTarget(string authority, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = authority.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(authority.AsSpan(colon + 1), out port) || port is <= 0 or > 65535)
        {
            return false;
        }

        host = authority[..colon];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || host.Equals("127.0.0.1", StringComparison.Ordinal);
    }

    // The request line of a CONNECT, reading up to the blank line that ends its head (bounded to 8 KiB).
    private async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[8192];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length, 1), _stopping.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            length += read;
            if (length >= 4 && buffer[length - 4] == '\r' && buffer[length - 3] == '\n' && buffer[length - 2] == '\r' && buffer[length - 1] == '\n')
            {
                var text = Encoding.ASCII.GetString(buffer, 0, length);
                return text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
            }
        }

        return null;
    }
}
