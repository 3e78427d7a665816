using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Churn.Container.Tests.Fixtures;
using Churn.Data.Store;
using Churn.Scale.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace Churn.Container.Tests;

/// <summary>
/// What the engine does to a running container: <c>docker stop</c> (SIGTERM, grace period) and <c>docker kill</c>
/// (SIGKILL) then <c>docker start</c>. /data is a host folder, so the store is read from outside afterwards.
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class LifecycleTests(ImageFixture image, ITestOutputHelper output)
{
    [EngineFact]
    public async Task DockerStopDrainsRequestsInFlightAndFlushesEveryAnsweredPredictionToTheStore()
    {
        var data = await ImageFixture.HostDataDirAsync();
        try
        {
            await using var container = await ChurnContainer.RunAsync(image.Docker, data);
            await container.WaitHealthyAsync(TimeSpan.FromMinutes(5));
            using var client = container.Client();
            var accepted = new System.Collections.Concurrent.ConcurrentBag<Guid>();
            var refused = 0;
            using var stopping = new CancellationTokenSource();
            var load = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !stopping.IsCancellationRequested; i++)
                {
                    try
                    {
                        var response = await client.PostAsync("/predict/batch", await BatchAsync($"stop-{worker}-{i}", 20, worker * 10_000 + i));
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            Interlocked.Increment(ref refused);
                            continue;
                        }
                        foreach (var prediction in (await response.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray())
                        {
                            accepted.Add(Guid.Parse(prediction!["predictionId"]!.GetValue<string>()));
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The server has closed its listener: the stop has begun.
                        return;
                    }
                }
            })).ToList();
            while (accepted.Count < 2000)
            {
                await Task.Delay(50);
            }

            var exitCode = await container.StopAsync();
            stopping.Cancel();
            await Task.WhenAll(load);

            var logged = await CountLoggedAsync(data, accepted);
            output.WriteLine($"{accepted.Count} predictions answered 200 ({refused} other answers) up to docker stop; {logged} in the store after it; exit code {exitCode}.");
            Assert.Equal(0, exitCode);
            Assert.Equal(accepted.Count, logged);
            Assert.Contains("Application is shutting down", await container.LogsAsync(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [EngineFact]
    public async Task DockerKillThenDockerStartReplaysTheJournalSoNoAnsweredPredictionIsLost()
    {
        var data = await ImageFixture.HostDataDirAsync();
        try
        {
            await using var container = await ChurnContainer.RunAsync(image.Docker, data);
            await container.WaitHealthyAsync(TimeSpan.FromMinutes(5));
            var accepted = new List<Guid>();
            using (var client = container.Client())
            {
                for (var round = 0; round < 5; round++)
                {
                    var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(async b =>
                    {
                        var response = await client.PostAsync("/predict/batch", await BatchAsync($"kill-{round}-{b}", 100, round * 100 + b));
                        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray()
                            .Select(p => Guid.Parse(p!["predictionId"]!.GetValue<string>()));
                    }));
                    accepted.AddRange(batches.SelectMany(b => b));
                }
            }
            // Straight after the last answer, while the log is still being written to the store.
            await container.KillAsync();
            var loggedAtKill = await CountLoggedAsync(data, accepted);
            Assert.Equal("137", await container.StateAsync("{{.State.ExitCode}}"));

            await container.StartAsync();
            await container.WaitHealthyAsync(TimeSpan.FromMinutes(3));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await CountLoggedAsync(data, accepted) < accepted.Count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
            var logged = await CountLoggedAsync(data, accepted);

            output.WriteLine($"{accepted.Count} predictions answered 200; {loggedAtKill} in the store at docker kill; {logged} after docker start.");
            Assert.Equal(accepted.Count, logged);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>A <c>POST /predict/batch</c> body of <paramref name="count"/> generated customers with ids <paramref name="prefix"/>-n.</summary>
    internal static async Task<StringContent> BatchAsync(string prefix, int count, int seed)
    {
        var customers = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            customers.Add(JsonNode.Parse(await ScaleFixture.PredictBody($"{prefix}-{i}", seed * 1000 + i).ReadAsStringAsync()));
        }
        return new StringContent(new JsonObject { ["customers"] = customers }.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
    }

    /// <summary>How many of <paramref name="ids"/> the SQLite store in <paramref name="dataDir"/> holds in its prediction log.</summary>
    internal static async Task<int> CountLoggedAsync(string dataDir, IReadOnlyCollection<Guid> ids)
    {
        await using var db = new StoreFactory(new StoreOptions(), dataDir).CreateDbContext();
        var count = 0;
        foreach (var chunk in ids.Chunk(500))
        {
            count += await db.PredictionLog.CountAsync(p => chunk.Contains(p.Id));
        }
        return count;
    }
}
