using Microsoft.Data.Sqlite;

namespace Churn.Testing;

/// <summary>
/// A <see cref="TempDirectory"/> that holds a SQLite store (a data directory, or a folder a command writes one into).
/// This process's pooled connections keep the store's files open after the test is done with them, so the pools are
/// cleared before the folder is removed.
/// </summary>
public class StoreDirectory(string prefix = "store") : TempDirectory(prefix)
{
    protected override void BeforeDelete() => SqliteConnection.ClearAllPools();
}
