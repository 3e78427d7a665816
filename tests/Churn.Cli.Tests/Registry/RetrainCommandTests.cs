using Churn.Data;
using Churn.Data.Retraining;
using Churn.Data.Settings;
using Microsoft.EntityFrameworkCore;

namespace Churn.Cli.Tests.Registry;

public sealed class RetrainCommandTests : CommandFolderTests
{
    [Fact]
    public async Task RetrainKeepsBackAChallengerBelowTheMarginRefusesWhileAnotherHoldsTheLockAndPromotesABetterOne()
    {
        var data = Dir.Combine("churn-data");
        var reference = Path.Combine(data, "data", "customers.csv");
        var schema = Dir.Combine("schema.json");
        Directory.CreateDirectory(Path.GetDirectoryName(reference)!);
        Assert.Equal(0, (await ChurnProcess.RunAsync("generate", "--rows", "1000", "--seed", "5", "--out", reference, "--schema-out", schema)).ExitCode);
        Assert.Equal(0, (await RunAsync("train", "--data", reference, "--schema", schema, "--promote", "--data-dir", data)).ExitCode);

        // A margin no challenger can reach: registered as challenger, kept back with its reason, exit code 2.
        var keptBack = await RunAsync("retrain", "--margin", "0.5", "--seed", "1", "--json", "--data-dir", data);
        Assert.Equal(2, keptBack.ExitCode);
        var kept = JsonDocument.Parse(keptBack.Stdout).RootElement;
        Assert.False(kept.GetProperty("promoted").GetBoolean());
        Assert.Equal(2, kept.GetProperty("version").GetInt32());
        Assert.Equal(reference, kept.GetProperty("reference").GetString());
        Assert.Contains("does not beat", kept.GetProperty("message").GetString(), StringComparison.Ordinal);
        using (var store = await ChurnStore.OpenAsync(data))
        {
            Assert.Equal(1, (await store.Registry.GetAliasAsync("churn", ModelAliases.Champion))!.Version);
            Assert.Equal(2, (await store.Registry.GetAliasAsync("churn", ModelAliases.Challenger))!.Version);
            await using var db = store.CreateDbContext();
            var audit = await db.AuditLog.SingleAsync(a => a.Action == "model.promotion_refused");
            Assert.Equal("churn:v2", audit.Target);
            Assert.Contains("does not beat", audit.Details, StringComparison.Ordinal);
            // `churn train --promote` and `churn retrain` are audited like the API's changes, as this user at this host.
            var entries = await AuditedCommandTests.AuditAsync(data);
            Assert.Equal(
                [("model.register", "churn:v1"), ("model.promote", "churn:v1"), ("model.register", "churn:v2"), ("model.promote.challenger", "churn:v2"),
                 ("model.promotion_refused", "churn:v2")],
                entries.Select(e => (e.Action, e.Target)));
            Assert.All(entries, e => Assert.Equal((Environment.UserName, Environment.MachineName), (e.Actor, e.ClientAddress)));
        }

        // While a server replica holds the training lock, the command refuses with exit code 3 and names the holder.
        using (var store = await ChurnStore.OpenAsync(data))
        {
            var locks = new StoreLock(store.Contexts, TimeProvider.System);
            Assert.True(await locks.TryAcquireAsync(TrainingLock.Name, "server-replica-a", TimeSpan.FromMinutes(5)));
            var locked = await RunAsync("retrain", "--data-dir", data);
            await locks.ReleaseAsync(TrainingLock.Name, "server-replica-a");
            Assert.Equal(3, locked.ExitCode);
            Assert.Contains("server-replica-a", locked.Stderr, StringComparison.Ordinal);
            Assert.Equal(2, (await store.Registry.ListVersionsAsync("churn")).Count);
        }

        // A weak champion trained on a few drifted customers; retraining on the reference beats it and is promoted.
        var drifted = Path.Combine(data, "data", "drifted.csv");
        Assert.Equal(0, (await ChurnProcess.RunAsync("generate", "--rows", "500", "--drift", "1", "--seed", "3", "--out", drifted)).ExitCode);
        Assert.Equal(0, (await RunAsync("train", "--data", drifted, "--schema", schema, "--promote", "--data-dir", data)).ExitCode);
        var promoted = await RunAsync("retrain", "--reference", reference, "--seed", "2", "--data-dir", data);
        Assert.Equal(0, promoted.ExitCode);
        Assert.Contains("Promoted v4 to champion", promoted.Stdout, StringComparison.Ordinal);
        using (var store = await ChurnStore.OpenAsync(data))
        {
            Assert.Equal(4, (await store.Registry.GetAliasAsync("churn", ModelAliases.Champion))!.Version);
            await using var db = store.CreateDbContext();
            Assert.Equal(2, await db.Runs.CountAsync(r => r.Trigger == Churn.Data.Tracking.RunTrigger.User && r.ParamsJson.Contains("command line")));
        }
    }

    [Fact]
    public async Task RetrainWithoutAChampionSaysSoAndExitsWithOne()
    {
        var result = await RunAsync("retrain", "--data-dir", Dir.Combine("empty"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no champion", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs the command with a budget for training (the shared helper allows a minute).</summary>
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => ChurnCommand.RunAsync(args, TimeSpan.FromMinutes(5));
}
