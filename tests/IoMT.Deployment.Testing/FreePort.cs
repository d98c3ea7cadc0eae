using System.Net;
using System.Net.Sockets;

namespace IoMT.Deployment.Testing;

/// <summary>Free loopback TCP ports.</summary>
public static class FreePort
{
    /// <summary>Asks the OS for a free port on 127.0.0.1.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
