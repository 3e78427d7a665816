using System.Security.Cryptography;
using Churn.Data.Tracking;

namespace Churn.Data.Tests.Registry;

/// <summary>The registry's behaviour, run once per provider by the subclasses below.</summary>
public abstract class RegistryScenarios : StoreTestBase
{
    [Fact]
    public async Task RegisteringCopiesThePackageIntoANumberedFolderAndRecordsItsHash()
    {
        using var store = await OpenAsync();
        var first = await RegisterAsync(store, "telco", "package one");
        var second = await RegisterAsync(store, "telco", "package two");
        var other = await RegisterAsync(store, "bank", "package three");

        Assert.Equal(1, first.Version);
        Assert.Equal(2, second.Version);
        Assert.Equal(1, other.Version);
        Assert.Equal("models/telco/v2/model.zip", second.PackagePath);
        var path = store.Registry.PackagePath(second, verifySha256: true);
        Assert.Equal("package two", await File.ReadAllTextAsync(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("package two"u8)), second.Sha256);
        Assert.Equal(["bank", "telco"], await store.Registry.ListModelsAsync());
        Assert.Equal([1, 2], (await store.Registry.ListVersionsAsync("telco")).Select(v => v.Version));
    }

    [Fact]
    public async Task RegisteringForAnUnknownRunIsRefusedAndLeavesNoFiles()
    {
        using var store = await OpenAsync();
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            store.Registry.RegisterAsync("telco", Guid.NewGuid(), WritePackage("x"), "{}", "tester"));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(store.DataDir, "models", "telco")));
    }

    [Fact]
    public async Task PackagePathRefusesAFileThatNoLongerMatchesItsHash()
    {
        using var store = await OpenAsync();
        var version = await RegisterAsync(store, "telco", "original");
        await File.WriteAllTextAsync(store.Registry.PackagePath(version), "tampered");

        var error = Assert.Throws<ModelIntegrityException>(() => store.Registry.PackagePath(version, verifySha256: true));
        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromotingMovesTheAliasAndKeepsWhoMovedItWhenAndWhy()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "v1");
        await RegisterAsync(store, "telco", "v2");

        await store.Registry.PromoteAsync("telco", 1, ModelAliases.Champion, "alice", "first model");
        await store.Registry.PromoteAsync("telco", 2, ModelAliases.Champion, "bob", "better AUC");

        Assert.Equal(2, (await store.Registry.GetAliasAsync("telco", ModelAliases.Champion))!.Version);
        var history = await store.Registry.HistoryAsync("telco", ModelAliases.Champion);
        Assert.Collection(history,
            h =>
            {
                Assert.Equal((1, "alice", "first model"), (h.Version, h.MovedBy, h.Reason));
                Assert.Equal(history[1].ValidFrom, h.ValidTo);
            },
            h =>
            {
                Assert.Equal((2, "bob", "better AUC"), (h.Version, h.MovedBy, h.Reason));
                Assert.Null(h.ValidTo);
            });
        Assert.Equal(["champion"], (await store.Registry.GetVersionAsync("telco", 2))!.Aliases);
    }

    [Fact]
    public async Task RollbackWithoutAVersionReturnsTheChampionToThePreviousOne()
    {
        using var store = await OpenAsync();
        for (var i = 1; i <= 3; i++)
        {
            await RegisterAsync(store, "telco", $"v{i}");
            await store.Registry.PromoteAsync("telco", i, ModelAliases.Champion, "ci");
        }

        var back = await store.Registry.RollbackAsync("telco", null, "oncall", "v3 misbehaves");
        Assert.Equal(2, back.Version);
        var named = await store.Registry.RollbackAsync("telco", 1, "oncall", "back to the first");
        Assert.Equal(1, named.Version);

        var history = await store.Registry.HistoryAsync("telco", ModelAliases.Champion);
        Assert.Equal([1, 2, 3, 2, 1], history.Select(h => h.Version));
        Assert.Equal("v3 misbehaves", history[3].Reason);
        Assert.Single(history, h => h.ValidTo is null);
    }

    [Fact]
    public async Task RollbackWithoutAPreviousChampionIsRefused()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "v1");
        await store.Registry.PromoteAsync("telco", 1, ModelAliases.Champion, "ci");

        var error = await Assert.ThrowsAsync<RegistryException>(() => store.Registry.RollbackAsync("telco", null, "oncall"));
        Assert.Contains("no previous champion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromotingAnUnknownVersionOrAliasIsRefused()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "v1");

        await Assert.ThrowsAsync<RegistryException>(() => store.Registry.PromoteAsync("telco", 7, ModelAliases.Champion, "ci"));
        await Assert.ThrowsAsync<RegistryException>(() => store.Registry.PromoteAsync("telco", 1, "production", "ci"));
        Assert.Null(await store.Registry.GetAliasAsync("telco", ModelAliases.Champion));
    }

    [Fact]
    public async Task AChallengerPromotedToChampionStopsBeingTheChallenger()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "v1");
        await RegisterAsync(store, "telco", "v2");
        await store.Registry.PromoteAsync("telco", 1, ModelAliases.Champion, "ci");
        await store.Registry.PromoteAsync("telco", 2, ModelAliases.Challenger, "ci");

        await store.Registry.PromoteAsync("telco", 2, ModelAliases.Champion, "ci", "challenger won");

        Assert.Null(await store.Registry.GetAliasAsync("telco", ModelAliases.Challenger));
        var challenger = Assert.Single(await store.Registry.HistoryAsync("telco", ModelAliases.Challenger));
        Assert.NotNull(challenger.ValidTo);
    }

    [Fact]
    public async Task ConcurrentPromotionsEachWinOnceAndLeaveAContiguousHistoryWithOneOpenPeriod()
    {
        using var store = await OpenAsync();
        for (var i = 1; i <= 8; i++)
        {
            await RegisterAsync(store, "telco", $"v{i}");
        }

        var start = new TaskCompletionSource();
        var promotions = Enumerable.Range(1, 8).Select(async v =>
        {
            await start.Task;
            return await store.Registry.PromoteAsync("telco", v, ModelAliases.Champion, $"user{v}");
        }).ToList();
        start.SetResult();
        await Task.WhenAll(promotions);

        var history = await store.Registry.HistoryAsync("telco", ModelAliases.Champion);
        Assert.Equal(8, history.Count);
        Assert.Equal(Enumerable.Range(1, 8), history.Select(h => h.Version).Order());
        Assert.Single(history, h => h.ValidTo is null);
        for (var i = 0; i < history.Count - 1; i++)
        {
            Assert.Equal(history[i + 1].ValidFrom, history[i].ValidTo);
            Assert.True(history[i].ValidFrom <= history[i].ValidTo);
        }
        Assert.Equal(history[^1].Version, (await store.Registry.GetAliasAsync("telco", ModelAliases.Champion))!.Version);
    }

    [Fact]
    public async Task FoldersLeftByAnInterruptedRegistrationAreRemovedByTheNextOne()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "v1");
        var orphanVersion = Path.Combine(store.DataDir, "models", "telco", "v2");
        var orphanStaging = Path.Combine(store.DataDir, "models", ".staging", "abc");
        Directory.CreateDirectory(orphanVersion);
        Directory.CreateDirectory(orphanStaging);
        await File.WriteAllTextAsync(Path.Combine(orphanVersion, "model.zip"), "half");

        var next = await RegisterAsync(store, "telco", "v2 for real");

        Assert.Equal(2, next.Version);
        Assert.Equal("v2 for real", await File.ReadAllTextAsync(store.Registry.PackagePath(next, verifySha256: true)));
        Assert.False(Directory.Exists(orphanStaging));
    }

    [Fact]
    public async Task ARunIsRecordedFromStartToFinishWithItsParametersMetricsAndArtifacts()
    {
        using var store = await OpenAsync();
        var id = await store.Runs.StartAsync("telco", RunTrigger.Drift, new Dictionary<string, string> { ["trees"] = "100" }, "abc123", 4);
        Assert.Equal(RunStatus.Running, (await store.Runs.GetAsync(id))!.Status);

        await store.Runs.FinishAsync(id, new Dictionary<string, double> { ["auc"] = 0.91, ["brier"] = 0.12 },
            new Dictionary<string, string> { ["model"] = "models/telco/v1/model.zip" });

        var run = (await store.Runs.GetAsync(id))!;
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(RunTrigger.Drift, run.Trigger);
        Assert.Equal("100", run.Parameters["trees"]);
        Assert.Equal(0.91, run.Metrics["auc"]);
        Assert.Equal("models/telco/v1/model.zip", run.Artifacts["model"]);
        Assert.Equal(("abc123", 4), (run.DatasetFingerprint, run.ParentModelVersion));
        Assert.NotNull(run.EndedAt);
        Assert.True(run.DurationSeconds >= 0);
        await Assert.ThrowsAsync<RegistryException>(() => store.Runs.FailAsync(id, "too late"));
    }

    [Fact]
    public async Task AFailedRunKeepsItsErrorAndIsListedFirst()
    {
        using var store = await OpenAsync();
        await store.Runs.StartAsync("telco");
        await Task.Delay(5);
        var failed = await store.Runs.StartAsync("telco");
        await store.Runs.FailAsync(failed, "label column missing");

        var runs = await store.Runs.ListAsync("telco");
        Assert.Equal(2, runs.Count);
        Assert.Equal((failed, RunStatus.Failed, "label column missing"), (runs[0].Id, runs[0].Status, runs[0].Error));
    }
}

public sealed class SqliteRegistryTests : RegistryScenarios;

[Collection(PostgresCollection.Name)]
public sealed class PostgresRegistryTests(PostgresCluster cluster) : RegistryScenarios
{
    protected override Task<StoreOptions> StoreOptionsAsync() => cluster.StoreOptionsAsync();
}
