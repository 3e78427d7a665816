using System.Security.Cryptography;
using Churn.Data.Store;
using Churn.Data.Tracking;

namespace Churn.Reliability.Tests.Fixtures;

/// <summary>Reads a stopped (or running) server's SQLite store directly, to judge it after a fault.</summary>
public static class StoreCheck
{
    public static StoreFactory Open(string dataDir) => LocalStore.Open(dataDir);

    /// <summary>
    /// The store is consistent: every registered version's file exists and hashes as registered, no version folder lacks
    /// its row, no run is left "running", and the champion alias has exactly one open history period that agrees with it.
    /// Returns the champion's version.
    /// </summary>
    public static async Task<int> AssertConsistentAsync(string dataDir)
    {
        await using var db = Open(dataDir).CreateDbContext();
        var versions = await db.ModelVersions.AsNoTracking().ToListAsync();
        foreach (var version in versions)
        {
            var path = Path.Combine(dataDir, version.PackagePath);
            Assert.True(File.Exists(path), $"v{version.Version}'s package {path} is missing");
            await using var stream = File.OpenRead(path);
            Assert.Equal(version.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
        }
        var modelsDir = Path.Combine(dataDir, "models", "churn");
        var folders = Directory.Exists(modelsDir) ? Directory.GetDirectories(modelsDir, "v*").Select(Path.GetFileName).Order().ToList() : [];
        Assert.Equal(versions.Select(v => $"v{v.Version}").Order(), folders);
        var running = await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Running).Select(r => r.Id).ToListAsync();
        Assert.True(running.Count == 0, $"runs left running: {string.Join(", ", running)}");
        var champion = await db.Aliases.AsNoTracking().SingleAsync(a => a.ModelName == "churn" && a.Alias == "champion");
        var open = await db.AliasHistory.AsNoTracking().Where(h => h.ModelName == "churn" && h.Alias == "champion" && h.ValidTo == null).ToListAsync();
        Assert.Single(open);
        Assert.Equal(champion.Version, open[0].Version);
        Assert.Contains(versions, v => v.Version == champion.Version);
        return champion.Version;
    }
}
