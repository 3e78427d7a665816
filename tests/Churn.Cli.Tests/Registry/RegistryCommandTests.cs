using System.Security.Cryptography;

namespace Churn.Cli.Tests.Registry;

public sealed class RegistryCommandTests : CommandFolderTests
{
    [Theory]
    [InlineData("staged")]
    [InlineData("moved")]
    public async Task ARegistrationKilledMidwayLeavesAConsistentStoreAndTheNextOneCleansUp(string killPoint)
    {
        var data = Dir.Combine("data");
        var package = Dir.Combine("model.zip");
        await File.WriteAllTextAsync(package, "first model");
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "register", "telco", package, "--promote", "--data-dir", data)).ExitCode);

        await File.WriteAllTextAsync(package, "second model");
        var signal = Dir.Combine("paused");
        using (var child = ChurnProcess.Start(["models", "register", "telco", package, "--promote", "--data-dir", data],
            new Dictionary<string, string> { ["CHURN_REGISTRY_PAUSE"] = killPoint, ["CHURN_REGISTRY_PAUSE_SIGNAL"] = signal }))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(signal))
            {
                if (child.HasExited)
                {
                    Assert.Fail($"churn exited before pausing: {await child.StandardError.ReadToEndAsync()}");
                }
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "churn did not reach the pause point within a minute.");
                await Task.Delay(50);
            }
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }

        using (var store = await ChurnStore.OpenAsync(data))
        {
            await AssertConsistentAsync(store);
            var version = Assert.Single(await store.Registry.ListVersionsAsync("telco"));
            Assert.Equal(1, (await store.Registry.GetAliasAsync("telco", "champion"))!.Version);
            // The killed registration's files are still there (renamed into v2 or left in staging) but nothing refers to them.
            var orphan = killPoint == "moved" ? Path.Combine(data, "models", "telco", "v2") : Path.Combine(data, "models", ".staging");
            Assert.NotEmpty(Directory.GetFiles(orphan, "*", SearchOption.AllDirectories));
            Assert.Equal(1, version.Version);
        }

        await File.WriteAllTextAsync(package, "third model");
        var next = await ChurnProcess.RunAsync("models", "register", "telco", package, "--promote", "--json", "--data-dir", data);
        Assert.Equal(0, next.ExitCode);
        Assert.Equal(2, JsonDocument.Parse(next.Stdout).RootElement.GetProperty("version").GetProperty("version").GetInt32());
        using (var store = await ChurnStore.OpenAsync(data))
        {
            await AssertConsistentAsync(store);
            Assert.Equal(["v1", "v2"], Directory.GetDirectories(Path.Combine(data, "models", "telco")).Select(Path.GetFileName).Order());
            Assert.Empty(Directory.GetDirectories(Path.Combine(data, "models", ".staging")));
            Assert.Equal(2, (await store.Registry.GetAliasAsync("telco", "champion"))!.Version);
            Assert.Equal("third model", await File.ReadAllTextAsync(Path.Combine(data, "models", "telco", "v2", "model.zip")));
        }
    }

    [Fact]
    public async Task ModelsCommandsPromoteRollBackAndReportHistoryAsJson()
    {
        var data = Dir.Combine("data");
        for (var i = 1; i <= 2; i++)
        {
            var package = Dir.Combine($"model{i}.zip");
            await File.WriteAllTextAsync(package, $"model {i}");
            Assert.Equal(0, (await ChurnProcess.RunAsync("models", "register", "telco", package, "--data-dir", data)).ExitCode);
        }

        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "promote", "telco", "1", "--by", "alice", "--data-dir", data)).ExitCode);
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "promote", "telco", "2", "--reason", "better AUC", "--data-dir", data)).ExitCode);
        var rollback = await ChurnProcess.RunAsync("models", "rollback", "telco", "--json", "--data-dir", data);
        Assert.Equal(1, JsonDocument.Parse(rollback.Stdout).RootElement.GetProperty("version").GetInt32());

        var history = await ChurnProcess.RunAsync("models", "history", "telco", "--json", "--data-dir", data);
        var rows = JsonDocument.Parse(history.Stdout).RootElement.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal([1, 2, 1], rows.Select(r => r.GetProperty("version").GetInt32()));
        Assert.Equal("alice", rows[0].GetProperty("movedBy").GetString());
        Assert.Equal("better AUC", rows[1].GetProperty("reason").GetString());

        var list = await ChurnProcess.RunAsync("models", "list", "--json", "--data-dir", data);
        var versions = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal(["champion"], versions[0].GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));

        var runs = await ChurnProcess.RunAsync("runs", "list", "--json", "--data-dir", data);
        Assert.Equal(2, JsonDocument.Parse(runs.Stdout).RootElement.GetProperty("runs").GetArrayLength());

        var unknown = await ChurnProcess.RunAsync("models", "promote", "telco", "9", "--data-dir", data);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("churn: Model 'telco' has no version 9.", unknown.Stderr.Trim());
    }

    [Fact]
    public async Task ListingsPrintAHintOnAnEmptyStoreAndATableOnceAModelIsRegistered()
    {
        var data = Dir.Combine("data");
        var noModels = await ChurnProcess.RunAsync("models", "list", "--data-dir", data);
        Assert.Equal(0, noModels.ExitCode);
        Assert.Equal("No registered models yet: train one with 'churn train'.", noModels.Stdout.Trim());
        var noRuns = await ChurnProcess.RunAsync("runs", "list", "--data-dir", data);
        Assert.Equal(0, noRuns.ExitCode);
        Assert.Equal("No runs recorded yet: train a model with 'churn train'.", noRuns.Stdout.Trim());

        var package = Dir.Combine("model.zip");
        await File.WriteAllTextAsync(package, "a model");
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "register", "telco", package, "--promote", "--data-dir", data)).ExitCode);

        var models = await ChurnProcess.RunAsync("models", "list", "--data-dir", data);
        Assert.Equal(0, models.ExitCode);
        Assert.Contains("telco", models.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("No registered models", models.Stdout, StringComparison.Ordinal);
        var runs = await ChurnProcess.RunAsync("runs", "list", "--data-dir", data);
        Assert.Equal(0, runs.ExitCode);
        Assert.Contains("telco", runs.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("No runs recorded", runs.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupThenRestoreIntoAnEmptyDirectoryReproducesTheRegistryAndRefusesAStoreWithData()
    {
        var data = Dir.Combine("data");
        var package = Dir.Combine("model.zip");
        await File.WriteAllTextAsync(package, "model bytes");
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "register", "telco", package, "--promote", "--data-dir", data)).ExitCode);
        var archive = Dir.Combine("backup.zip");
        Assert.Equal(0, (await ChurnProcess.RunAsync("backup", "--out", archive, "--data-dir", data)).ExitCode);

        var refused = await ChurnProcess.RunAsync("restore", archive, "--data-dir", data);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);

        var restored = Dir.Combine("restored");
        Assert.Equal(0, (await ChurnProcess.RunAsync("restore", archive, "--data-dir", restored)).ExitCode);
        var before = (await ChurnProcess.RunAsync("models", "list", "--json", "--data-dir", data)).Stdout;
        var after = (await ChurnProcess.RunAsync("models", "list", "--json", "--data-dir", restored)).Stdout;
        Assert.Equal(before, after);
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(data, "models", "telco", "v1", "model.zip")),
            await File.ReadAllBytesAsync(Path.Combine(restored, "models", "telco", "v1", "model.zip")));
        Assert.Equal(0, (await ChurnProcess.RunAsync("restore", archive, "--force", "--data-dir", data)).ExitCode);

        // The restored store keeps the archive's audit log and records the restore itself, by this user at this host.
        var audit = await AuditedCommandTests.AuditAsync(restored);
        Assert.Equal(["model.register", "model.promote", "store.restore"], audit.Select(a => a.Action));
        Assert.Equal((Environment.UserName, Environment.MachineName), (audit[^1].Actor, audit[^1].ClientAddress));
    }

    /// <summary>Every version's file exists and hashes as registered, and every alias points at a registered version.</summary>
    private static async Task AssertConsistentAsync(ChurnStore store)
    {
        var versions = await store.Registry.ListVersionsAsync();
        foreach (var version in versions)
        {
            var path = store.Registry.PackagePath(version, verifySha256: true);
            Assert.Equal(version.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))));
        }
        await using var db = store.CreateDbContext();
        foreach (var alias in db.Aliases.ToList())
        {
            Assert.Contains(versions, v => v.ModelName == alias.ModelName && v.Version == alias.Version);
        }
        Assert.Single(db.AliasHistory.Where(h => h.ValidTo == null && h.Alias == "champion").ToList());
    }

}
