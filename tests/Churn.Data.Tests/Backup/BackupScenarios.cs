using System.IO.Compression;
using Churn.Data.Backup;
using Churn.Data.Jobs;
using Churn.Data.Security;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Tests.Backup;

public abstract class BackupScenarios : StoreTestBase
{
    [Fact]
    public async Task BackupThenRestoreIntoAnEmptyDirectoryGivesTheSameRunsVersionsAliasesAndFiles()
    {
        var archive = Dir.Combine("backup.zip");
        using (var source = await OpenAsync())
        {
            await RegisterAsync(source, "telco", "first package");
            await RegisterAsync(source, "telco", "second package");
            await RegisterAsync(source, "bank", "third package");
            await source.Registry.PromoteAsync("telco", 1, "champion", "alice");
            await source.Registry.PromoteAsync("telco", 2, "champion", "bob", "better");
            await source.Registry.PromoteAsync("bank", 1, "challenger", "bob");
            await File.WriteAllTextAsync(Path.Combine(source.DataDir, "settings.json"), "{\"threshold\":0.4}");
            await source.Backup.BackupAsync(archive);
            await AssertSameAsync(source, await RestoredAsync(archive, Dir.Combine("restored")));
        }
    }

    [Fact]
    public async Task ABackupHoldsEveryTableOfTheStoresModel()
    {
        using var store = await OpenAsync();
        await using var db = await store.Contexts.CreateDbContextAsync();

        Assert.Equal(
            db.Model.GetEntityTypes().Select(t => t.ClrType.FullName).Order(StringComparer.Ordinal),
            StoreSnapshot.EntityTypes.Select(t => t.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DashboardUsersJobsSignInCountersAndTheKeyRingComeBackFromABackup()
    {
        var archive = Dir.Combine("backup.zip");
        var at = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        using (var source = await OpenAsync())
        {
            await using var db = await source.Contexts.CreateDbContextAsync();
            db.Users.Add(new DashboardUser { Id = Guid.NewGuid(), UserName = "ana", PasswordHash = "hash-of-ana", Role = Roles.Analyst, CreatedAt = at });
            db.Jobs.Add(new JobRecord { Id = Guid.NewGuid(), Kind = "score", Status = "Succeeded", CreatedBy = "ana", Instance = "node-1", CreatedAt = at, UpdatedAt = at, RowsDone = 42, ResultFile = "jobs/result.csv" });
            db.SignInCounters.Add(new SignInCounter { Kind = "user", Key = "ana", Failures = 2, WindowEnds = at });
            db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = "key-1", Xml = "<key id=\"1\" />" });
            await db.SaveChangesAsync();
            await source.Backup.BackupAsync(archive);
        }

        using var restored = await RestoredAsync(archive, Dir.Combine("restored"));
        await using var check = await restored.Contexts.CreateDbContextAsync();
        var user = await check.Users.SingleAsync();
        Assert.Equal(("ana", "hash-of-ana", Roles.Analyst), (user.UserName, user.PasswordHash, user.Role));
        var job = await check.Jobs.SingleAsync();
        Assert.Equal((42L, "jobs/result.csv"), (job.RowsDone, job.ResultFile));
        Assert.Equal(2, (await check.SignInCounters.SingleAsync()).Failures);
        Assert.Equal("key-1", (await check.DataProtectionKeys.SingleAsync()).FriendlyName);

        // A key added after the restore gets an id past the restored one.
        check.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = "key-2", Xml = "<key id=\"2\" />" });
        await check.SaveChangesAsync();
        Assert.Equal(2, await check.DataProtectionKeys.CountAsync());
    }

    [Fact]
    public async Task ATableExportFromBeforeUsersWereExportedLeavesTheTargetsUsersAsTheyAre()
    {
        using var store = await OpenAsync();
        await using var db = await store.Contexts.CreateDbContextAsync();
        db.Users.Add(new DashboardUser { Id = Guid.NewGuid(), UserName = "ana", PasswordHash = "hash-of-ana", Role = Roles.Admin });
        await db.SaveChangesAsync();
        var older = JsonSerializer.Deserialize<StoreSnapshot>("{\"Runs\":[],\"ModelVersions\":[],\"Settings\":[]}")!;

        await older.WriteAsync(db, CancellationToken.None);

        Assert.Equal("ana", (await db.Users.AsNoTracking().SingleAsync()).UserName);
    }

    [Fact]
    public async Task RestoreRefusesToOverwriteAStoreWithDataUnlessForced()
    {
        var archive = Dir.Combine("backup.zip");
        using var source = await OpenAsync();
        await RegisterAsync(source, "telco", "kept");
        await source.Backup.BackupAsync(archive);
        await RegisterAsync(source, "telco", "added after the backup");

        var error = await Assert.ThrowsAsync<BackupException>(() => source.Backup.RestoreAsync(archive, force: false));
        Assert.Contains("--force", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await source.Registry.ListVersionsAsync()).Count);

        await source.Backup.RestoreAsync(archive, force: true);
        var version = Assert.Single(await source.Registry.ListVersionsAsync());
        Assert.Equal("kept", await File.ReadAllTextAsync(source.Registry.PackagePath(version, verifySha256: true)));
        Assert.False(Directory.Exists(Path.Combine(source.DataDir, "models", "telco", "v2")));
    }

    [Fact]
    public async Task ADamagedArchiveIsRefusedBeforeAnythingIsTouched()
    {
        var archive = Dir.Combine("backup.zip");
        using (var source = await OpenAsync())
        {
            await RegisterAsync(source, "telco", "original bytes");
            await source.Backup.BackupAsync(archive);
        }
        using (var zip = ZipFile.Open(archive, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("files/models/telco/v1/model.zip")!;
            entry.Delete();
            await using var writer = new StreamWriter(zip.CreateEntry("files/models/telco/v1/model.zip").Open());
            await writer.WriteAsync("evil bytes");
        }

        using var target = await OpenAsync(dataDir: Dir.Combine("target"));
        var error = await Assert.ThrowsAsync<BackupException>(() => target.Backup.RestoreAsync(archive, force: false));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.Empty(await target.Registry.ListVersionsAsync());
    }

    private async Task<ChurnStore> RestoredAsync(string archive, string dataDir)
    {
        var target = await OpenAsync(dataDir: dataDir);
        await target.Backup.RestoreAsync(archive, force: false);
        return target;
    }

    private static async Task AssertSameAsync(ChurnStore source, ChurnStore restored)
    {
        using (restored)
        {
            Assert.Equal(await source.Runs.ListAsync(), await restored.Runs.ListAsync(), RunComparer.Instance);
            var before = await source.Registry.ListVersionsAsync();
            var after = await restored.Registry.ListVersionsAsync();
            Assert.Equal(before.Select(Key), after.Select(Key));
            foreach (var (a, b) in before.Zip(after))
            {
                Assert.Equal(
                    await File.ReadAllBytesAsync(source.Registry.PackagePath(a)),
                    await File.ReadAllBytesAsync(restored.Registry.PackagePath(b, verifySha256: true)));
            }
            foreach (var model in new[] { "telco", "bank" })
            {
                Assert.Equal(await source.Registry.HistoryAsync(model), await restored.Registry.HistoryAsync(model));
                Assert.Equal(await source.Registry.GetAliasAsync(model, "champion"), await restored.Registry.GetAliasAsync(model, "champion"));
                Assert.Equal(await source.Registry.GetAliasAsync(model, "challenger"), await restored.Registry.GetAliasAsync(model, "challenger"));
            }
            Assert.Equal("{\"threshold\":0.4}", await File.ReadAllTextAsync(Path.Combine(restored.DataDir, "settings.json")));

            // The restored store keeps working: ids and version numbers continue after the restored ones.
            var next = await RegisterAsyncStatic(restored, "telco");
            Assert.Equal(3, next.Version);
            await restored.Registry.PromoteAsync("telco", 3, "champion", "carol");
        }
    }

    private static string Key(Churn.Data.Registry.ModelVersionInfo v) =>
        $"{v.ModelName}/{v.Version}/{v.RunId}/{v.Sha256}/{v.PackagePath}/{v.CreatedAt:O}/{v.CreatedBy}/{string.Join(',', v.Aliases)}";

    private static async Task<Churn.Data.Registry.ModelVersionInfo> RegisterAsyncStatic(ChurnStore store, string model)
    {
        var run = await store.Runs.StartAsync(model);
        var file = Path.Combine(store.DataDir, "incoming.zip");
        await File.WriteAllTextAsync(file, "after restore");
        return await store.Registry.RegisterAsync(model, run, file, "{}", "carol");
    }

    private sealed class RunComparer : IEqualityComparer<Churn.Data.Tracking.RunInfo>
    {
        public static readonly RunComparer Instance = new();

        public bool Equals(Churn.Data.Tracking.RunInfo? x, Churn.Data.Tracking.RunInfo? y) =>
            x is not null && y is not null && x.Id == y.Id && x.ModelName == y.ModelName && x.Status == y.Status
            && x.StartedAt == y.StartedAt && x.EndedAt == y.EndedAt
            && x.Parameters.OrderBy(p => p.Key).SequenceEqual(y.Parameters.OrderBy(p => p.Key))
            && x.Metrics.OrderBy(p => p.Key).SequenceEqual(y.Metrics.OrderBy(p => p.Key));

        public int GetHashCode(Churn.Data.Tracking.RunInfo obj) => obj.Id.GetHashCode();
    }
}

public sealed class SqliteBackupTests : BackupScenarios;

[Collection(PostgresCollection.Name)]
public sealed class PostgresBackupTests(PostgresCluster cluster) : BackupScenarios
{
    protected override Task<StoreOptions> StoreOptionsAsync() => cluster.StoreOptionsAsync();
}
