namespace Churn.Reliability.Tests.Faults;

/// <summary>Damaged model packages: refused with a clear problem, and the champion keeps serving.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ModelFileTests : TrainedCopyTests
{
    [Fact]
    public async Task PromotingAVersionWhoseFileWasTruncatedOnDiskIsRefusedAndTheChampionKeepsServing()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var admin = server.Client();
        var champion = await Serving.ChampionAsync(admin);
        var other = champion == 1 ? 2 : 1;
        await TruncateAsync(await LocalStore.PackagePathAsync(DataDir, other));

        var response = await admin.PostAsync($"/models/{other}/promote", null);

        await AssertRefusedAsync(response, "SHA-256");
        await Serving.AssertChampionServesAsync(admin, champion);
    }

    [Fact]
    public async Task ATruncatedPackageRegisteredThroughTheCliIsRefusedAtPromotionAndTheChampionKeepsServing()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var admin = server.Client();
        var champion = await Serving.ChampionAsync(admin);
        string truncated = Path.Combine(DataDir, "truncated.zip");
        var bytes = await File.ReadAllBytesAsync(await LocalStore.PackagePathAsync(DataDir, champion));
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 3)]);
        // Registration copies and hashes whatever it is given, so this version's hash matches its (broken) bytes.
        var registered = await RunCliAsync("models", "register", "churn", truncated, "--data-dir", DataDir, "--json");
        Assert.True(registered.ExitCode == 0, registered.Output);

        var response = await admin.PostAsync("/models/3/promote", null);

        await AssertRefusedAsync(response, "corrupt or truncated");
        await Serving.AssertChampionServesAsync(admin, champion);
    }

    [Fact]
    public async Task AServerStartedWithATruncatedChampionFileServesThePreviousChampionAndSaysWhy()
    {
        int previous, champion;
        await using (var server = await ServerProcess.StartAsync(DataDir))
        {
            using var admin = server.Client();
            previous = await Serving.ChampionAsync(admin);
            champion = previous == 1 ? 2 : 1;
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/models/{champion}/promote", null)).StatusCode);
            await server.StopAsync();
        }
        await TruncateAsync(await LocalStore.PackagePathAsync(DataDir, champion));

        await using var restarted = await ServerProcess.StartAsync(DataDir);

        using var client = restarted.Client();
        var prediction = await client.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
        Assert.Equal(HttpStatusCode.OK, prediction.StatusCode);
        Assert.Equal(previous, (await prediction.ReadObjectAsync())["modelVersion"]!.GetValue<int>());
        Assert.Contains($"The champion churn v{champion} cannot be loaded: The package file of churn v{champion} has SHA-256", restarted.Output, StringComparison.Ordinal);
        Assert.Contains($"Serving the previous champion v{previous}", restarted.Output, StringComparison.Ordinal);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string explanation)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(explanation, body, StringComparison.Ordinal);
    }

    /// <summary>Cuts the file to half its length, as a disk that filled up or a copy that stopped midway leaves it.</summary>
    private static async Task TruncateAsync(string package)
    {
        await using var file = new FileStream(package, FileMode.Open, FileAccess.Write);
        file.SetLength(file.Length / 2);
    }

    private static async Task<(int ExitCode, string Output)> RunCliAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await ChurnCommand.RunAsync(args, TimeSpan.FromMinutes(2));
        return (exitCode, stdout + stderr);
    }
}
