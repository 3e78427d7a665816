using System.Collections.Concurrent;

namespace Churn.Reliability.Tests.Faults;

/// <summary>
/// SIGKILL again and again at random moments of mixed traffic (single and batch predictions, feedback, file scoring,
/// promotions, retrainings), restarting each time over the same data directory; then nothing answered is lost or doubled.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class CrashLoopTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Fact]
    public async Task TwentySigkillsDuringMixedTrafficLoseNoAnsweredPredictionDoubleNoneAndLeaveTheRegistryConsistentAndNoJobRunning()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("CHURN_CRASH_KILLS"), CultureInfo.InvariantCulture, out var k) ? k : 20;
        var random = new Random(20261129);
        var answered = new ConcurrentDictionary<Guid, byte>();
        var cut = 0;
        var feedback = 0;
        var actions = new List<string>();
        {
            for (var round = 0; round < kills; round++)
            {
                await using var server = await ServerProcess.StartAsync(DataDir);
                // Cancelled just before the kill: a call failing after that was cut off by it, one failing before is a fault.
                using var stop = new CancellationTokenSource();
                var traffic = new[]
                {
                    Task.Run(() => LoopAsync(server, stop.Token, async client =>
                    {
                        var response = await client.PostAsync("/predict", Bodies.Json(Bodies.Customer(Random.Shared.Next(100_000))));
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            answered[Guid.Parse((await response.ReadObjectAsync())["predictionId"]!.GetValue<string>())] = 0;
                        }
                    })),
                    Task.Run(() => LoopAsync(server, stop.Token, async client =>
                    {
                        foreach (var id in await PredictionTraffic.PredictBatchAsync(client, $"crash-{round}-{Guid.NewGuid():N}", 20))
                        {
                            answered[id] = 0;
                        }
                    })),
                    Task.Run(() => LoopAsync(server, stop.Token, async client =>
                    {
                        if (answered.Keys.FirstOrDefault() is { } id && id != Guid.Empty
                            && (await client.PostAsJsonAsync("/feedback", new { predictionId = id, churned = true })).IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref feedback);
                        }
                        await Task.Delay(50);
                    })),
                };
                using var admin = server.Client();
                var action = (round % 5) switch
                {
                    0 => "score a file",
                    1 or 3 => "promote",
                    2 => "retrain",
                    _ => "predict only",
                };
                actions.Add(action);
                var started = action switch
                {
                    "score a file" => admin.PostAsync("/jobs/score", new StringContent(Bodies.Csv(3000, seed: round), Encoding.UTF8, "text/csv")),
                    "promote" => admin.PostAsJsonAsync($"/models/{(await Serving.ChampionAsync(admin) == 1 ? 2 : 1)}/promote", new { reason = $"crash loop {round}" }),
                    "retrain" => admin.PostAsJsonAsync("/retrain", new { rows = 2000, seed = round }),
                    _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent)),
                };
                await Task.Delay(random.Next(300, 2500));
                await stop.CancelAsync();
                server.Kill();
                foreach (var task in traffic)
                {
                    cut += await task;
                }
                try
                {
                    await started;
                }
                catch (HttpRequestException)
                {
                    // Cut off by the kill.
                }
            }

            await using (var last = await ServerProcess.StartAsync(DataDir))
            {
                using var admin = last.Client();
                var ids = answered.Keys.ToList();
                await Wait.UntilAsync(async () => await LocalStore.CountLoggedAsync(DataDir, ids) == ids.Count,
                    TimeSpan.FromSeconds(120), $"all {ids.Count} answered predictions to be in the store");
                var champion = await StoreCheck.AssertConsistentAsync(DataDir);
                await Serving.AssertChampionServesAsync(admin, champion);

                await using var db = StoreCheck.Open(DataDir).CreateDbContext();
                // Ids are the primary key, so a duplicate cannot exist; rows beyond the answered ones are requests the kill cut off.
                var rows = await db.PredictionLog.CountAsync();
                var unfinished = await db.Jobs.AsNoTracking().Where(j => j.Status == "Queued" || j.Status == "Running").ToListAsync();
                Assert.True(unfinished.Count == 0, $"jobs left unfinished: {string.Join(", ", unfinished.Select(j => $"{j.Kind} {j.Status} ({j.Instance})"))}");
                var abandoned = await db.Jobs.CountAsync(j => j.Error != null && j.Error.Contains("abandoned"));
                output.WriteLine($"{kills} SIGKILLs ({string.Join(", ", actions.GroupBy(a => a).Select(g => $"{g.Count()} during '{g.Key}'"))}); "
                    + $"{answered.Count} predictions answered 200, all {answered.Count} in the store (0 lost; ids are unique, 0 duplicates); "
                    + $"{cut} requests cut off by the kills; {feedback} feedback records accepted; {rows} prediction rows in all; "
                    + $"{abandoned} jobs failed as abandoned after a restart, 0 left running; registry consistent, champion v{champion} serving.");
            }
        }
    }

    /// <summary>Runs <paramref name="step"/> until stopped (just before the kill); returns how many calls the kill cut off.</summary>
    private static async Task<int> LoopAsync(ServerProcess server, CancellationToken stop, Func<HttpClient, Task> step)
    {
        using var client = server.Client(timeout: TimeSpan.FromSeconds(30));
        var cut = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await step(client);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException && stop.IsCancellationRequested)
            {
                cut++;
            }
        }
        return cut;
    }
}
