namespace Churn.Data.Tests.Fixtures;

/// <summary>
/// The test run's throwaway PostgreSQL cluster (see <see cref="PostgresServer"/>), shared by the collection. Each test
/// asks for its own database; when PostgreSQL is missing or did not start, that request fails the test with the reason.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    private readonly PostgresServer server = new();
    private string? startError;
    private int databases;

    public async Task InitializeAsync()
    {
        if (PostgresServer.BinDir is null)
        {
            return;
        }
        try
        {
            await server.StartAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            startError = ex.Message;
        }
    }

    /// <summary>Store options for a new, empty database of this cluster.</summary>
    public async Task<StoreOptions> StoreOptionsAsync() =>
        new() { Provider = StoreOptions.Postgres, ConnectionString = await CreateDatabaseAsync() };

    /// <summary>A new, empty database; fails the calling test with a clear message when PostgreSQL is unavailable.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        if (PostgresServer.BinDir is null)
        {
            Assert.Fail(PostgresServer.NotInstalled);
        }
        if (startError is not null)
        {
            Assert.Fail($"The test PostgreSQL cluster did not start: {startError}");
        }
        var name = $"churn_test_{Interlocked.Increment(ref databases)}";
        await server.CreateDatabaseAsync(name);
        return server.ConnectionString(name) + ";Pooling=true;Maximum Pool Size=50;Include Error Detail=true";
    }

    public Task DisposeAsync() => server.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}
