using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Churn.Data.Store;

/// <summary>
/// Tells a store that is away (PostgreSQL stopped or unreachable, SQLite locked by another process past the busy
/// timeout) from a request the store refused: the first is worth retrying later (HTTP 503), the second is not.
/// </summary>
public static class StoreOutage
{
    /// <summary>True when <paramref name="error"/>, or an exception inside it, says the store could not be reached or used just now.</summary>
    public static bool Is(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NpgsqlException { IsTransient: true }:
                case NpgsqlException { InnerException: SocketException or IOException or TimeoutException }:
                case PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }:
                // SQLITE_BUSY and SQLITE_LOCKED: another connection holds the database longer than the busy timeout.
                case SqliteException { SqliteErrorCode: 5 or 6 }:
                case SocketException:
                case TimeoutException:
                    return true;
                case InvalidOperationException when e.Message.Contains("transient failure", StringComparison.Ordinal):
                    return true;
            }
        }
        return false;
    }
}
