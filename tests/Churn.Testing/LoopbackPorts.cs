using System.Net;
using System.Net.Sockets;

namespace Churn.Testing;

/// <summary>Ports on the loopback interface for servers a test starts.</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A port that was free a moment ago: the operating system picks it for a listener that is closed at once. Another
    /// process may take it before the caller binds, which on a test machine is rare enough to accept.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
