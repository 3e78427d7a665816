using System.IO.Compression;
using Churn.Data.Backup;

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
