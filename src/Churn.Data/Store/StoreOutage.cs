using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
                // SQLITE_BUSY and SQLITE_LOCKED: another connection holds the database longer than the busy timeout.
                case SqliteException { SqliteErrorCode: 5 or 6 }:
                case SocketException:
                case TimeoutException:
                    return true;
                case InvalidOperationException when e.Message.Contains("transient failure", StringComparison.Ordinal):
                    return true;
            }
            // An exception of PostgreSQL's client exists only once that client is loaded. Asking by namespace first keeps a
            // server on SQLite from loading it here: compiling PostgresAway would (bench/NOTES.md, 2026-12-02 third session).
            if (e.GetType().Namespace == nameof(Npgsql) && PostgresAway(e))
            {
                return true;
            }
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool PostgresAway(Exception e) => e is NpgsqlException { IsTransient: true }
        or NpgsqlException { InnerException: SocketException or IOException or TimeoutException }
        or PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" };
}
