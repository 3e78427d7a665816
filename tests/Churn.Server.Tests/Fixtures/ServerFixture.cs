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
    private readonly StoreDirectory dataDir = new("churn-server");

    public string DataDir => dataDir.Path;

    public ChurnFactory Factory { get; private set; } = null!;

    /// <summary>Secrets of one active key per role, plus one revoked key.</summary>
    public Dictionary<string, string> Keys { get; private set; } = [];

    public string RevokedKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Factory = new ChurnFactory(DataDir);
        using var admin = Client(TestSecrets.AdminKey);
        (Keys, RevokedKey) = await ApiKeys.CreateForEveryRoleAsync(admin, TestSecrets.AdminKey, "fixture");
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        dataDir.Dispose();
    }

    public HttpClient Client(string? key = null) => Factory.ClientWithKey(key);

    public HttpClient ClientFor(string role) => Client(Keys[role]);

    /// <summary>GETs <paramref name="path"/> with <paramref name="role"/>'s key and returns the answer's JSON.</summary>
    /// <exception cref="HttpRequestException">The answer was not a success.</exception>
    public async Task<JsonNode> GetJsonAsync(string role, string path)
    {
        using var client = ClientFor(role);
        return JsonNode.Parse(await client.GetStringAsync(path))!;
    }

    public static async Task<string> CreateKeyAsync(HttpClient admin, string name, string role) => (await ApiKeys.CreateAsync(admin, name, role)).Secret;

    /// <summary>
    /// A copy of the data directory (store and model files) for a second server that must not share the first one's
    /// files; removed when disposed.
    /// </summary>
    public StoreDirectory CloneDataDir()
    {
        var target = new StoreDirectory("churn-server");
        // The SQLite backup API copies a consistent snapshot while the first server keeps writing.
        using (var source = new SqliteConnection($"Data Source={Path.Combine(DataDir, "churn.db")}"))
        using (var copy = new SqliteConnection($"Data Source={target.Combine("churn.db")}"))
        {
            source.Open();
            copy.Open();
            source.BackupDatabase(copy);
        }
        CopyDirectory(Path.Combine(DataDir, "models"), target.Combine("models"));
        return target;
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
        builder.UseSetting("Churn:RequestWarmUpSeconds", "0");
        builder.UseSetting("Churn:AdminKey", TestSecrets.AdminKey);
        // Tests make far more than 100 requests per minute with one key; the rate-limit test lowers this itself.
        builder.UseSetting("Churn:Api:rate_limit", "1000000");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }
}

public static class ServerClients
{
    /// <summary>A client of the in-memory server sending <paramref name="key"/> as its API key (none when null).</summary>
    public static HttpClient ClientWithKey(this WebApplicationFactory<ChurnServer> factory, string? key)
    {
        var client = factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
