namespace Churn.Scale.Tests.Fixtures;

/// <summary>
/// Two replicas sharing one PostgreSQL store and one data directory, and no Redis: what they share of security state
/// (sign-in lockouts, the dashboard's key ring, encrypted with the configured certificate) can only be in the store.
/// </summary>
public sealed class SharedStoreFixture : IAsyncLifetime
{
    private readonly TestPostgres postgres = new();

    public string DataDir { get; } = Path.Combine(Scratch.Root, $"churn-store-{Guid.NewGuid():N}");

    internal Replica A { get; private set; } = null!;

    internal Replica B { get; private set; } = null!;

    internal TestPostgres Postgres => postgres;

    /// <summary>The environment each replica gets, without its instance id or home folder.</summary>
    internal Dictionary<string, string> ReplicaEnvironment { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await postgres.StartAsync();
        Directory.CreateDirectory(DataDir);
        ReplicaEnvironment = new Dictionary<string, string>
        {
            ["Churn__DataDir"] = DataDir,
            ["Churn__Store__Provider"] = "postgres",
            ["Churn__Store__ConnectionString"] = postgres.ConnectionString,
            ["Churn__AdminKey"] = TestSecrets.AdminKey,
            ["Churn__SampleRows"] = "800",
            ["Churn__WarmUpRows"] = "20",
            ["Churn__RequestWarmUpSeconds"] = "0",
            ["CHURN_ADMIN_PASSWORD"] = TestSecrets.DashboardPassword,
            ["Churn__KeyRingCertificate"] = await TestCertificates.CreatePfxAsync(TestSecrets.KeyRingPassword),
            ["Churn__KeyRingCertificatePassword"] = TestSecrets.KeyRingPassword,
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
            ["Logging__Console__FormatterName"] = "simple",
        };
        A = NewReplica("store-a");
        B = NewReplica("store-b");
        A.Start();
        B.Start();
        await Task.WhenAll(A.WaitReadyAsync(TimeSpan.FromMinutes(3)), B.WaitReadyAsync(TimeSpan.FromMinutes(3)));
    }

    /// <summary>A replica over this store with <paramref name="instanceId"/> and a home folder of its own (not started).</summary>
    internal Replica NewReplica(string instanceId, Action<Dictionary<string, string>>? change = null)
    {
        var environment = new Dictionary<string, string>(ReplicaEnvironment) { ["HOME"] = $"{DataDir}-home-{instanceId}" };
        change?.Invoke(environment);
        return new Replica(instanceId, environment);
    }

    /// <inheritdoc cref="TestPostgres.ColumnAsync"/>
    internal Task<List<string>> ColumnAsync(string sql) => postgres.ColumnAsync(sql);

    public async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        await postgres.DisposeAsync();
        foreach (var dir in Directory.EnumerateDirectories(Path.GetDirectoryName(DataDir)!, $"{Path.GetFileName(DataDir)}*"))
        {
            Scratch.Delete(dir);
        }
    }

    /// <summary>Output of both replicas, for failure messages.</summary>
    internal string Logs => $"{A.Output}\n{B.Output}";
}

[CollectionDefinition(Name)]
public sealed class SharedStoreCollection : ICollectionFixture<SharedStoreFixture>
{
    public const string Name = "shared-store";
}
