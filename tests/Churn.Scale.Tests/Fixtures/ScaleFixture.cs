using System.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace Churn.Scale.Tests.Fixtures;

/// <summary>
/// The scaled-out deployment, all real and on loopback: a PostgreSQL cluster (registry, logs), a Redis server (rate
/// limits, notifications, locks, leader lease), two server processes sharing one data directory (model files), and
/// nginx in front of both. The replicas start together on the empty store, so one of them trains the first model.
/// </summary>
public sealed class ScaleFixture : IAsyncLifetime
{
    private readonly TestPostgres postgres = new();
    private readonly TestRedis redis = new();
    private readonly TestNginx nginx = new();

    public string DataDir { get; } = Path.Combine(Scratch.Root, $"churn-scale-{Guid.NewGuid():N}");

    /// <summary>The PFX file of the certificate that encrypts the data-protection key ring (Churn:KeyRingCertificate).</summary>
    public string KeyRingCertificate { get; private set; } = "";

    internal Replica A { get; private set; } = null!;

    internal Replica B { get; private set; } = null!;

    internal TestPostgres Postgres => postgres;

    internal TestRedis RedisServer => redis;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    /// <summary>Registered versions right after both replicas started on the empty store.</summary>
    public int VersionsAfterStart { get; private set; }

    public string ProxyUrl => $"http://127.0.0.1:{nginx.Port}";

    public async Task InitializeAsync()
    {
        await Task.WhenAll(postgres.StartAsync(), redis.StartAsync());
        Directory.CreateDirectory(DataDir);
        // The certificate that encrypts the dashboard's key ring at rest, given to the replicas as an operator would.
        KeyRingCertificate = await TestCertificates.CreatePfxAsync(TestSecrets.KeyRingPassword);
        var environment = new Dictionary<string, string>(QuickServerEnvironment.Variables)
        {
            ["Churn__DataDir"] = DataDir,
            ["Churn__Store__Provider"] = "postgres",
            ["Churn__Store__ConnectionString"] = postgres.ConnectionString,
            ["Churn__Redis"] = redis.Configuration,
            ["Churn__AdminKey"] = TestSecrets.AdminKey,
            // Polling is the fallback; an hour means a promotion seen by the other replica within the test came by notification.
            ["Churn__ChampionPollInterval"] = "01:00:00",
            ["CHURN_ADMIN_PASSWORD"] = TestSecrets.DashboardPassword,
            ["Churn__KeyRingCertificate"] = KeyRingCertificate,
            ["Churn__KeyRingCertificatePassword"] = TestSecrets.KeyRingPassword,
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
            ["Logging__Console__FormatterName"] = "simple",
        };
        // Separate home folders, as separate containers would have: nothing per-user (such as a default key ring) is shared.
        A = new Replica("replica-a", new Dictionary<string, string>(environment) { ["HOME"] = Path.Combine(DataDir, "..", $"{Path.GetFileName(DataDir)}-home-a") });
        B = new Replica("replica-b", new Dictionary<string, string>(environment) { ["HOME"] = Path.Combine(DataDir, "..", $"{Path.GetFileName(DataDir)}-home-b") });
        A.Start();
        B.Start();
        await Task.WhenAll(A.WaitReadyAsync(TimeSpan.FromMinutes(3)), B.WaitReadyAsync(TimeSpan.FromMinutes(3)));
        await nginx.StartAsync([A.Port, B.Port]);
        Redis = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        using var admin = A.Client(TestSecrets.AdminKey);
        VersionsAfterStart = (await admin.GetFromJsonAsync<JsonArray>("/models"))!.Count;
    }

    public async Task DisposeAsync()
    {
        Redis?.Dispose();
        await nginx.DisposeAsync();
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        await redis.DisposeAsync();
        await postgres.DisposeAsync();
        foreach (var dir in new[] { DataDir, $"{DataDir}-home-a", $"{DataDir}-home-b" })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Includes a folder that was never created (a replica that did not start).
            }
        }
    }

    /// <summary>
    /// Starts the real <c>churn</c> command against the deployment's store (the shared data directory and PostgreSQL),
    /// as an operator on one of the replicas' hosts would run it; Redis is configured too, as in the replicas' environment.
    /// </summary>
    internal Process StartChurn(params string[] args) => Process.Start(ChurnCommand.StartInfo(args, new Dictionary<string, string>
    {
        ["CHURN_DATA_DIR"] = DataDir,
        ["Churn__Store__Provider"] = "postgres",
        ["Churn__Store__ConnectionString"] = postgres.ConnectionString,
        ["Churn__Redis"] = redis.Configuration,
    }))!;

    /// <summary>Runs <c>churn</c> (see <see cref="StartChurn"/>) to the end within five minutes.</summary>
    internal async Task<(int ExitCode, string Stdout, string Stderr)> ChurnAsync(params string[] args)
    {
        using var process = StartChurn(args);
        return await FinishAsync(process);
    }

    internal static async Task<(int ExitCode, string Stdout, string Stderr)> FinishAsync(Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Who holds the training lock in the store, or null when it is free.</summary>
    internal async Task<string?> TrainingLockHolderAsync()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "UpdatedBy" FROM settings WHERE "Key" = 'lock:training' AND "UpdatedAt" > now()""", connection);
        return await command.ExecuteScalarAsync() as string;
    }

    public HttpClient Proxy(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(ProxyUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }

    /// <summary>Output of both replicas, for failure messages.</summary>
    internal string Logs => $"{A.Output}\n{B.Output}\nnginx: {(File.Exists(nginx.ErrorLog) ? File.ReadAllText(nginx.ErrorLog) : "")}";

    public static async Task<string> CreateKeyAsync(HttpClient admin, string name, string role) => (await ApiKeys.CreateAsync(admin, name, role)).Secret;

    /// <summary>A generated customer as a <c>POST /predict</c> body, its id prefixed so a test can count its own log rows.</summary>
    public static StringContent PredictBody(string customerId, int seed)
    {
        var body = GeneratedCustomers.Json(1, seed)[0];
        body["customerId"] = customerId;
        return new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
    }

    public static string InstanceOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Churn-Instance", out var values) ? values.Single() : "";

    /// <summary>Polls <paramref name="condition"/> up to <paramref name="within"/> (see <see cref="Wait.UntilAsync"/>); a failure shows the replicas' logs.</summary>
    public Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string what) => Wait.UntilAsync(condition, within, what, () => Logs);
}

[CollectionDefinition(Name)]
public sealed class ScaleCollection : ICollectionFixture<ScaleFixture>
{
    public const string Name = "scale";
}
