using Churn.Data.Store;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace Churn.Server.Tests.Fixtures;

/// <summary>
/// One server over a real SQLite store in a temporary data directory, shared by the whole collection. Its first start
/// trains a small seeded champion (3,000 generated rows), which every test then uses.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string AdminKey = "churn_test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz";

    public string DataDir { get; } = Path.Combine(Scratch.Root, "churn-server-tests", Guid.NewGuid().ToString("N"));

    public ChurnFactory Factory { get; private set; } = null!;

    /// <summary>Secrets of one active key per role, plus one revoked key.</summary>
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    public string RevokedKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Factory = new ChurnFactory(DataDir);
        using var admin = Client(AdminKey);
        Keys["admin"] = AdminKey;
        foreach (var role in new[] { "analyst", "service", "viewer" })
        {
            Keys[role] = await CreateKeyAsync(admin, $"fixture-{role}", role);
        }
        RevokedKey = await CreateKeyAsync(admin, "fixture-revoked", "service");
        var keys = await admin.GetFromJsonAsync<JsonArray>("/keys");
        var revokedId = keys!.Single(k => (string?)k!["name"] == "fixture-revoked")!["id"]!.GetValue<string>();
        (await admin.DeleteAsync($"/keys/{revokedId}")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TryDelete(DataDir);
    }

    public HttpClient Client(string? key = null)
    {
        var client = Factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }

    public HttpClient ClientFor(string role) => Client(Keys[role]);

    public static async Task<string> CreateKeyAsync(HttpClient admin, string name, string role)
    {
        var response = await admin.PostAsJsonAsync("/keys", new { name, role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    /// <summary>A copy of the data directory (store and model files) for a second server that must not share the first one's files.</summary>
    public string CloneDataDir()
    {
        var target = Path.Combine(Scratch.Root, "churn-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        // The SQLite backup API copies a consistent snapshot while the first server keeps writing.
        using (var source = new SqliteConnection($"Data Source={Path.Combine(DataDir, "churn.db")}"))
        using (var copy = new SqliteConnection($"Data Source={Path.Combine(target, "churn.db")}"))
        {
            source.Open();
            copy.Open();
            source.BackupDatabase(copy);
        }
        CopyDirectory(Path.Combine(DataDir, "models"), Path.Combine(target, "models"));
        return target;
    }

    public static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

/// <summary>The server under test over one data directory, with settings that keep tests fast and quiet.</summary>
public class ChurnFactory(string dataDir) : WebApplicationFactory<ChurnServer>
{
    public string DataDir => dataDir;

    public StoreFactory Store => (StoreFactory)Services.GetService(typeof(StoreFactory))!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Churn:DataDir", dataDir);
        builder.UseSetting("Churn:SampleRows", "3000");
        builder.UseSetting("Churn:WarmUpRows", "20");
        builder.UseSetting("Churn:AdminKey", ServerFixture.AdminKey);
        // Tests make far more than 100 requests per minute with one key; the rate-limit test lowers this itself.
        builder.UseSetting("Churn:Api:rate_limit", "1000000");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
