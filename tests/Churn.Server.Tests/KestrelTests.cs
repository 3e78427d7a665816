namespace Churn.Server.Tests;

/// <summary>The server as `churn serve` runs it: the same entry point, a real Kestrel on a loopback port.</summary>
[Collection(ServerCollection.Name)]
public sealed class KestrelTests(ServerFixture server)
{
    [Fact]
    public async Task TheEntryPointServesPredictionsOverRealHttpOnLoopbackAndStopsCleanly()
    {
        using var dataDir = server.CloneDataDir();
        var port = LoopbackPorts.Free();
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = ChurnServer.RunAsync(
            [$"--urls=http://127.0.0.1:{port}", $"--Churn:DataDir={dataDir.Path}", "--Churn:WarmUpRows=20", "--Churn:RequestWarmUpSeconds=0", "--Logging:LogLevel:Default=Warning"],
            output, stop.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForReadyAsync(http, run);
            http.DefaultRequestHeaders.Add("X-API-Key", TestSecrets.AdminKey);

            var response = await http.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
            var key = await (await http.PostAsJsonAsync("/keys", new { name = "over-kestrel", role = "viewer" })).ReadObjectAsync();
            var audit = JsonNode.Parse(await http.GetStringAsync("/audit?action=key.create"))!.AsArray();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.InRange((await response.ReadObjectAsync())["churnProbability"]!.GetValue<double>(), 0, 1);
            Assert.Contains(audit, a => (string?)a!["target"] == key["id"]!.GetValue<string>() && (string?)a["clientAddress"] == "127.0.0.1");
            var banner = output.ToString();
            Assert.Contains($"http://127.0.0.1:{port}/scalar/v1", banner, StringComparison.Ordinal);
            Assert.Contains("X-API-Key", banner, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run);
        }
    }

    [Fact]
    public async Task AFreshDataDirectoryGetsAStoreAFirstChampionAndAGeneratedAdminKeyShownOnce()
    {
        using var scratch = new StoreDirectory("churn-server");
        // A folder that does not exist yet: the server creates it.
        var dataDir = scratch.Combine("data");
        var port = LoopbackPorts.Free();
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = ChurnServer.RunAsync(
            [$"--urls=http://127.0.0.1:{port}", $"--Churn:DataDir={dataDir}", "--Churn:SampleRows=1000", "--Churn:WarmUpRows=10", "--Churn:RequestWarmUpSeconds=0", "--Logging:LogLevel:Default=Warning"],
            output, stop.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForReadyAsync(http, run);
            var line = output.ToString().Split('\n').Single(l => l.Contains("admin key:", StringComparison.Ordinal) && l.Contains("churn_", StringComparison.Ordinal));
            var key = line[(line.IndexOf("churn_", StringComparison.Ordinal))..].Trim();
            http.DefaultRequestHeaders.Add("X-API-Key", key);

            var models = JsonNode.Parse(await http.GetStringAsync("/models"))!.AsArray();

            Assert.Single(models);
            Assert.Contains("champion", models[0]!["aliases"]!.AsArray().Select(a => (string?)a));
            Assert.True(File.Exists(Path.Combine(dataDir, "churn.db")));
            var stored = File.ReadAllBytes(Path.Combine(dataDir, "churn.db"));
            Assert.DoesNotContain(key, System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task AppSettingsInTheWorkingDirectoryAreReadAtStartAndNeverWatched()
    {
        // Watching appsettings.json for changes watches its whole folder tree, the data folder and its journal included.
        using var dataDir = server.CloneDataDir();
        using var root = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(root.Path, "churn-data", "journal"));
        await File.WriteAllTextAsync(Path.Combine(root.Path, "appsettings.json"), """{"Churn": {"SampleRows": 777}}""");

        await using var app = ChurnServer.Build([$"--contentRoot={root.Path}", $"--Churn:DataDir={dataDir.Path}", "--Churn:RequestWarmUpSeconds=0"]);

        Assert.Equal("777", app.Configuration["Churn:SampleRows"]);
        var files = ((Microsoft.Extensions.Configuration.IConfigurationRoot)app.Configuration).Providers.OfType<Microsoft.Extensions.Configuration.FileConfigurationProvider>().ToList();
        Assert.Contains(files, f => f.Source.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched for changes"));
    }

    [Fact]
    public void TheWarmUpsTrimOfTheCHeapReachesGlibcHere()
    {
        // The machines this product runs on (Debian, the container image) have glibc: the call binds and is made.
        Assert.True(OperatingSystem.IsLinux(), "the server and its tests run on Linux");
        Assert.True(Churn.Server.Hosting.NativeHeap.Trim());
    }

    private static Task WaitForReadyAsync(HttpClient http, Task run) =>
        Polling.UntilReadyAsync(run, async () => (await http.GetAsync("/health/live")).IsSuccessStatusCode, "The server");
}
