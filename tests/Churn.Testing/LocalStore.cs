using Churn.Data.Store;
using Microsoft.EntityFrameworkCore;

namespace Churn.Testing;

/// <summary>
/// The SQLite store of a data directory, read straight from the test process while a server (a child process or a
/// container over a host folder) runs on it or after it stopped: to judge what a fault left behind.
/// </summary>
public static class LocalStore
{
    /// <summary>A factory for contexts over the store in <paramref name="dataDir"/>, with default options.</summary>
    public static StoreFactory Open(string dataDir) => new(new StoreOptions(), dataDir);

    /// <summary>How many of <paramref name="ids"/> the store in <paramref name="dataDir"/> holds in its prediction log.</summary>
    public static async Task<int> CountLoggedAsync(string dataDir, IReadOnlyCollection<Guid> ids)
    {
        await using var db = Open(dataDir).CreateDbContext();
        var count = 0;
        foreach (var chunk in ids.Chunk(500))
        {
            count += await db.PredictionLog.CountAsync(p => chunk.Contains(p.Id));
        }
        return count;
    }

    /// <summary>
    /// Waits up to <paramref name="limit"/> until the store in <paramref name="dataDir"/> holds all of <paramref name="ids"/>
    /// (a restarted server replays its journal); returns how many it holds then, for the test to judge and report.
    /// </summary>
    public static async Task<int> CountLoggedWithinAsync(string dataDir, IReadOnlyCollection<Guid> ids, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var logged = await CountLoggedAsync(dataDir, ids);
        while (logged < ids.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            logged = await CountLoggedAsync(dataDir, ids);
        }
        return logged;
    }

    /// <summary>The full path of the package file registered for version <paramref name="version"/>.</summary>
    public static async Task<string> PackagePathAsync(string dataDir, int version)
    {
        await using var db = Open(dataDir).CreateDbContext();
        return Path.Combine(dataDir, (await db.ModelVersions.SingleAsync(v => v.Version == version)).PackagePath);
    }
}
