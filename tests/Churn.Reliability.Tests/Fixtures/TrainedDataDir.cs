using Microsoft.Data.Sqlite;

namespace Churn.Reliability.Tests.Fixtures;

/// <summary>A test's own copy of the trained template (see <see cref="DataDirs.CloneTrainedAsync"/>), removed on dispose.</summary>
public sealed class TrainedDataDir() : TempDirectory("churn-reliability")
{
    /// <summary>The server processes are gone by now, but this process's pooled SQLite connections still hold the store open.</summary>
    protected override void BeforeDelete() => SqliteConnection.ClearAllPools();
}
