namespace Churn.Server.Tests.Fixtures;

/// <summary>
/// The base of a test class over the shared <see cref="ServerFixture"/> whose tests call the API as one role or another:
/// one client per role, made on its first use in a test and disposed after it (xunit makes an instance per test).
/// </summary>
public abstract class RoleClientTests(ServerFixture server) : IDisposable
{
    private readonly Dictionary<string, HttpClient> clients = [];
    private readonly Lock gate = new();

    /// <summary>The collection's server.</summary>
    protected ServerFixture Server { get; } = server;

    /// <summary>A client sending the admin key.</summary>
    protected HttpClient Admin => As("admin");

    /// <summary>A client sending the analyst key.</summary>
    protected HttpClient Analyst => As("analyst");

    /// <summary>A client sending the service key (what a scoring integration holds).</summary>
    protected HttpClient Service => As("service");

    /// <summary>A client sending the viewer key.</summary>
    protected HttpClient Viewer => As("viewer");

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
            clients.Clear();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>The test's client for <paramref name="role"/>; a test may ask for it from several tasks at once.</summary>
    private HttpClient As(string role)
    {
        lock (gate)
        {
            if (!clients.TryGetValue(role, out var client))
            {
                client = Server.ClientFor(role);
                clients[role] = client;
            }
            return client;
        }
    }
}
