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
        using var data = await ImageFixture.HostDataDirAsync();
        await using var container = await ChurnContainer.RunHealthyAsync(image.Docker, data.Path);
        using var client = container.Client();
        using var stopping = new CancellationTokenSource();
        var load = new Load(client, "stop", stopping.Token);
        await load.WaitForAsync(2000);

        var exitCode = await container.StopAsync();
        stopping.Cancel();
        var accepted = await load.FinishAsync();

        var logged = await LocalStore.CountLoggedAsync(data.Path, accepted);
        output.WriteLine($"{accepted.Count} predictions answered 200 ({load.Refused} other answers) up to docker stop; {logged} in the store after it; exit code {exitCode}.");
        Assert.Equal(0, exitCode);
        Assert.Equal(accepted.Count, logged);
        Assert.Contains("Application is shutting down", await container.LogsAsync(), StringComparison.Ordinal);
    }

    [EngineFact]
    public async Task DockerKillThenDockerStartReplaysTheJournalSoNoAnsweredPredictionIsLost()
    {
        using var data = await ImageFixture.HostDataDirAsync();
        await using var container = await ChurnContainer.RunHealthyAsync(image.Docker, data.Path);
        IReadOnlyCollection<Guid> accepted;
        using (var client = container.Client())
        using (var stopping = new CancellationTokenSource())
        {
            var load = new Load(client, "kill", stopping.Token);
            await load.WaitForAsync(2000);
            // Mid-load: requests are in flight and answered predictions are still on their way to the store.
            await container.KillAsync();
            stopping.Cancel();
            accepted = await load.FinishAsync();
        }
        var loggedAtKill = await LocalStore.CountLoggedAsync(data.Path, accepted);
        Assert.Equal("137", await container.StateAsync("{{.State.ExitCode}}"));

        await container.StartAsync();
        await container.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var logged = await LocalStore.CountLoggedWithinAsync(data.Path, accepted, TimeSpan.FromSeconds(60));

        output.WriteLine($"{accepted.Count} predictions answered 200 up to docker kill; {loggedAtKill} in the store at the kill; {logged} after docker start.");
        Assert.Equal(accepted.Count, logged);
    }

    /// <summary>Six clients sending batches of 20 predictions until cancelled or the server stops answering; keeps the ids answered with 200.</summary>
    private sealed class Load
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<Guid> accepted = [];
        private readonly List<Task> workers;
        private int refused;

        public Load(HttpClient client, string prefix, CancellationToken stopping) =>
            workers = [.. Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !stopping.IsCancellationRequested; i++)
                {
                    try
                    {
                        var response = await client.PostAsync("/predict/batch", await BatchAsync($"{prefix}-{worker}-{i}", 20, worker * 10_000 + i));
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
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                    {
                        // The server closed its listener or died: this request was not answered.
                        return;
                    }
                }
            }))];

        /// <summary>Answers other than 200 (none are expected).</summary>
        public int Refused => Volatile.Read(ref refused);

        public async Task WaitForAsync(int answered)
        {
            while (accepted.Count < answered)
            {
                if (workers.All(w => w.IsCompleted))
                {
                    await Task.WhenAll(workers);
                    throw new InvalidOperationException($"The load stopped after {accepted.Count} predictions.");
                }
                await Task.Delay(20);
            }
        }

        public async Task<IReadOnlyCollection<Guid>> FinishAsync()
        {
            await Task.WhenAll(workers);
            return [.. accepted];
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
}
