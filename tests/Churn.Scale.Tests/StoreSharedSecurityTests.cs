namespace Churn.Scale.Tests;

/// <summary>
/// The shared security state of two replicas on a PostgreSQL store alone (no Redis), which keeps it in the store; and a
/// replica without the key-ring certificate, which could keep its ring nowhere safe, refuses to start, Redis or not.
/// </summary>
[Collection(SharedStoreCollection.Name)]
public sealed class StoreSharedSecurityTests(SharedStoreFixture deployment, ITestOutputHelper output)
    : SharedSecurityTests(deployment.A, deployment.B, deployment.Postgres, deployment.DataDir, TestSecrets.DashboardPassword, output)
{
    protected override async Task<string> AssertLockHeldAsync(string name)
    {
        var locks = await deployment.ColumnAsync($"""SELECT "Key" FROM sign_in_counters WHERE "Kind" = 'user' AND "LockedUntil" IS NOT NULL AND "Key" = '{name}'""");
        Assert.Equal(name, Assert.Single(locks));
        return "a row of sign_in_counters";
    }

    protected override async Task<(IReadOnlyList<string> Keys, string Where)> KeyRingAsync()
    {
        var keys = await StoredKeysAsync();
        // Both replicas started on an empty store: the ring was read only once the store had its tables.
        Assert.DoesNotContain("key ring", deployment.Logs, StringComparison.OrdinalIgnoreCase);
        return (keys, "data_protection_keys");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReplicaOnThisStoreWithoutACertificateRefusesToStartNamingTheSettingWithRedisOrWithout(bool withRedis)
    {
        await using var bare = deployment.NewReplica(withRedis ? "store-bare-redis" : "store-bare", e =>
        {
            e.Remove("Churn__KeyRingCertificate");
            e.Remove("Churn__KeyRingCertificatePassword");
            if (withRedis)
            {
                // Redis once held the ring when set, unencrypted; a Redis kept without persistence lost it at a restart.
                e["Churn__Redis"] = $"127.0.0.1:{Engines.FreePort()}";
            }
        });
        bare.Start();

        var exitCode = await bare.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, exitCode);
        Assert.Contains("the server cannot start: Churn:KeyRingCertificate is required when the store is PostgreSQL:", bare.Output, StringComparison.Ordinal);
        Output.WriteLine(bare.Output.Split('\n').First(l => l.Contains("cannot start", StringComparison.Ordinal)));
    }
}
