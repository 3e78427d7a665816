using Churn.Data.Security;
using Microsoft.EntityFrameworkCore;

namespace Churn.Cli.Tests.Registry;

/// <summary>Every change made with the churn command lands in the same audit log as the API's, naming the OS user and this host.</summary>
public sealed class AuditedCommandTests : CommandFolderTests
{
    [Fact]
    public async Task RegisterPromoteRollbackAndKeyChangesFromTheCommandLineAreAuditedWithTheUserAndHost()
    {
        var data = await RegisterTwoAsync("--promote");
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "promote", "telco", "1", "--reason", "back to one", "--data-dir", data)).ExitCode);
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "rollback", "telco", "--reason", "two was fine", "--data-dir", data)).ExitCode);
        var key = await ChurnProcess.RunAsync("keys", "create", "--name", "scorer", "--role", "service", "--json", "--data-dir", data);
        Assert.Equal(0, key.ExitCode);
        var keyId = JsonDocument.Parse(key.Stdout).RootElement.GetProperty("id").GetString();
        Assert.Equal(0, (await ChurnProcess.RunAsync("keys", "revoke", "scorer", "--data-dir", data)).ExitCode);

        var entries = await AuditAsync(data);
        Assert.Equal(
            [("model.register", "telco:v1"), ("model.promote", "telco:v1"), ("model.register", "telco:v2"), ("model.promote", "telco:v2"),
             ("model.promote", "telco:v1"), ("model.rollback", "telco:v2"), ("key.create", keyId), ("key.revoke", keyId)],
            entries.Select(e => (e.Action, e.Target)));
        Assert.All(entries, e => Assert.Equal((Environment.UserName, Environment.MachineName), (e.Actor, e.ClientAddress)));
        Assert.Contains("back to one", entries[4].Details, StringComparison.Ordinal);
        Assert.Contains("two was fine", entries[5].Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APromotionToATamperedPackageIsRefusedLeavesTheChampionAndIsNotAudited()
    {
        var data = await RegisterTwoAsync("--by", "ci-bot");
        Assert.Equal(0, (await ChurnProcess.RunAsync("models", "promote", "telco", "1", "--by", "ci-bot", "--data-dir", data)).ExitCode);
        var stored = Assert.Single(Directory.GetFiles(Path.Combine(data, "models", "telco", "v2")));
        await File.WriteAllTextAsync(stored, "not what was registered");

        var refused = await ChurnProcess.RunAsync("models", "promote", "telco", "2", "--data-dir", data);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("SHA-256", refused.Stderr, StringComparison.Ordinal);
        using (var store = await ChurnStore.OpenAsync(data))
        {
            Assert.Equal(1, (await store.Registry.GetAliasAsync("telco", "champion"))!.Version);
        }
        var entries = await AuditAsync(data);
        Assert.Equal(["model.register", "model.register", "model.promote"], entries.Select(e => e.Action));
        // --by names who acted; the address is still this host.
        Assert.All(entries, e => Assert.Equal(("ci-bot", Environment.MachineName), (e.Actor, e.ClientAddress)));
    }

    /// <summary>Registers two small packages as telco v1 and v2 with <c>churn models register</c> and the given flags; returns the data directory.</summary>
    private async Task<string> RegisterTwoAsync(params string[] flags)
    {
        var data = Dir.Combine("data");
        for (var i = 1; i <= 2; i++)
        {
            var package = Dir.Combine($"model{i}.zip");
            await File.WriteAllTextAsync(package, $"model {i}");
            Assert.Equal(0, (await ChurnProcess.RunAsync(["models", "register", "telco", package, .. flags, "--data-dir", data])).ExitCode);
        }
        return data;
    }

    /// <summary>The audit log of the store in <paramref name="data"/>, oldest first.</summary>
    internal static async Task<List<AuditEntry>> AuditAsync(string data)
    {
        using var store = await ChurnStore.OpenAsync(data);
        await using var db = store.CreateDbContext();
        return await db.AuditLog.AsNoTracking().OrderBy(a => a.Id).ToListAsync();
    }
}
