namespace Churn.Reliability.Tests.Fixtures;

/// <summary>
/// One child server over a copy of the trained template, shared by the bad-input and security suites: keys of every
/// role and one revoked key are created through the API at start.
/// </summary>
public sealed class SharedServer : IAsyncLifetime
{
    public const long UploadLimit = 2 * 1024 * 1024;

    public ServerProcess Server { get; private set; } = null!;

    public IReadOnlyList<Operation> Operations { get; private set; } = [];

    /// <summary>Secrets of one active key per role.</summary>
    public Dictionary<string, string> Keys { get; private set; } = [];

    public string RevokedKey { get; private set; } = "";

    private TrainedDataDir? dir;

    public async Task InitializeAsync()
    {
        dir = await DataDirs.CloneTrainedAsync();
        // A small upload limit, so the security suite can show the 413 without sending a gigabyte.
        Server = await ServerProcess.StartAsync(dir.Path, new Dictionary<string, string> { ["Churn:MaxUploadBytes"] = UploadLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var admin = Server.Client();
        (Keys, RevokedKey) = await ApiKeys.CreateForEveryRoleAsync(admin, TestSecrets.AdminKey, "shared");
        Operations = await ApiSurface.ReadAsync(admin);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        dir?.Dispose();
    }

    public HttpClient ClientFor(string? role) => Server.Client(role switch
    {
        null or "none" => null,
        "revoked" => RevokedKey,
        _ => Keys[role],
    });

    public static Task<(string Id, string Secret)> CreateKeyAsync(HttpClient admin, string name, string role) => ApiKeys.CreateAsync(admin, name, role);
}

/// <summary>
/// Every suite here runs in one collection, one test at a time: each starts real server processes, and on a small
/// machine parallel servers would only slow each other down.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReliabilityCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "reliability";
}
