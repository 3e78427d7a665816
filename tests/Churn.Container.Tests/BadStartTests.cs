namespace Churn.Container.Tests;

/// <summary>Containers started into something wrong: a missing secret, a read-only volume, a damaged model file.</summary>
[Collection(ContainerCollection.Name)]
public sealed class BadStartTests(ImageFixture image, ITestOutputHelper output)
{
    [EngineFact]
    public async Task AMissingStoreSecretStopsTheContainerWithAMessageNamingIt()
    {
        // The compose file builds the connection string from POSTGRES_PASSWORD; here it is left out altogether.
        await using var container = await ChurnContainer.RunAsync(image.Docker, await image.VolumeAsync(),
            new Dictionary<string, string> { ["Churn__Store__Provider"] = "postgres" });

        var exitCode = await container.WaitExitAsync(TimeSpan.FromMinutes(2));

        var logs = await container.LogsAsync();
        output.WriteLine(logs.Split('\n').Last(l => l.Length > 0));
        Assert.Equal(1, exitCode);
        Assert.Contains("churn: the server cannot start: Store:ConnectionString is required when Store:Provider is postgres.", logs, StringComparison.Ordinal);
    }

    [EngineFact]
    public async Task AReadOnlyDataVolumeGivesAClearErrorAtStart()
    {
        using var data = await ImageFixture.HostDataDirAsync();
        await using var container = await ChurnContainer.RunAsync(image.Docker, data.Path, readOnly: true);
        var exitCode = await container.WaitExitAsync(TimeSpan.FromMinutes(2));

        var logs = await container.LogsAsync();
        output.WriteLine(logs.Split('\n').Last(l => l.Length > 0));
        Assert.Equal(1, exitCode);
        Assert.Contains("churn: the server cannot start: The data directory /data is not writable by user app", logs, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(data.Path));
    }

    [EngineFact]
    public async Task AContainerStartedWithACorruptChampionFileServesThePreviousChampion()
    {
        using var data = await ImageFixture.HostDataDirAsync();
        await using var container = await ChurnContainer.RunHealthyAsync(image.Docker, data.Path);
        using (var admin = container.Client())
        {
            await Requests.RetrainAsync(admin);
            if (await Requests.ServingVersionAsync(admin) != 2)
            {
                await Requests.PromoteAsync(admin, 2);
            }
            Assert.Equal(2, await Requests.ServingVersionAsync(admin));
        }
        Assert.Equal(0, await container.StopAsync());
        var package = await LocalStore.PackagePathAsync(data.Path, 2);
        await using (var file = new FileStream(package, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length / 2);
        }

        await container.StartAsync();
        await container.WaitHealthyAsync(TimeSpan.FromMinutes(3));

        using var client = container.Client();
        Assert.Equal(1, await Requests.ServingVersionAsync(client));
        var logs = await container.LogsAsync();
        output.WriteLine(logs.Split('\n').Last(l => l.Contains("previous champion", StringComparison.Ordinal)));
        Assert.Contains("The champion churn v2 cannot be loaded: The package file of churn v2 has SHA-256", logs, StringComparison.Ordinal);
        Assert.Contains("Serving the previous champion v1", logs, StringComparison.Ordinal);
    }

}
