using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Churn.Data.Tests.Store;

/// <summary>What counts as the store being away (worth a 503 and a retry) rather than a request it refused.</summary>
public sealed class StoreOutageTests
{
    [Fact]
    public void EachStoresOutagesCountAndItsRefusalsDoNot()
    {
        // PostgreSQL shutting down or out of connections; its client's transient errors, also inside EF Core's.
        Assert.True(StoreOutage.Is(new PostgresException("terminating connection", "FATAL", "FATAL", "57P01")));
        Assert.True(StoreOutage.Is(new PostgresException("too many connections", "FATAL", "FATAL", "53300")));
        Assert.True(StoreOutage.Is(new InvalidOperationException("wrapped", new NpgsqlException("Exception while reading from stream", new IOException("reset")))));
        Assert.True(StoreOutage.Is(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        // SQLite busy or locked past the busy timeout.
        Assert.True(StoreOutage.Is(new SqliteException("database is locked", 5)));
        Assert.True(StoreOutage.Is(new TimeoutException()));

        // A refused statement is the request's fault, on either store.
        Assert.False(StoreOutage.Is(new PostgresException("duplicate key", "ERROR", "ERROR", "23505")));
        Assert.False(StoreOutage.Is(new NpgsqlException("bad")));
        Assert.False(StoreOutage.Is(new SqliteException("constraint failed", 19)));
        Assert.False(StoreOutage.Is(new InvalidOperationException("something else")));
    }
}
