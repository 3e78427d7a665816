using System.Text.RegularExpressions;

namespace Churn.Reliability.Tests.Load;

/// <summary>A started server warms its own request path before it reports ready, and leaves no trace of that in the log.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ColdStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheServerReportsWarmingUntilItHasDrivenItsOwnPredictPathThenLogsOnlyRealPredictions()
    {
        using var trained = await DataDirs.CloneTrainedAsync();
        var loggedBefore = await CountLoggedAsync(trained.Path);
        // A rate limit far below the warm-up's request count: the warm-up must not be limited (nor use up a window).
        await using var server = await ServerProcess.StartAsync(trained.Path, new Dictionary<string, string>
        {
            ["Churn:RequestWarmUpSeconds"] = "10",
            ["Churn:Api:rate_limit"] = "50",
        });
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

        var seen = new List<string>();
        var ready = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!ready && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            using var response = await anonymous.GetAsync("/health");
            var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>();
            seen.Add($"{(int)response.StatusCode} {status}");
            ready = response.StatusCode == HttpStatusCode.OK;
            await Task.Delay(ready ? 0 : 100);
        }
        output.WriteLine(string.Join(", ", seen.Distinct()));
        Assert.True(ready, "The server did not report ready within 60 s:\n" + server.Output);
        Assert.Contains("503 warming", seen);
        Assert.Equal("200 ready", seen[^1]);

        await Wait.UntilAsync(() => Task.FromResult(WarmUpLine().Success), TimeSpan.FromSeconds(10), "the warm-up line in the log", () => server.Output);
        var requests = int.Parse(WarmUpLine().Groups[1].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"warm-up requests: {requests}");
        Assert.True(requests > 50, $"The warm-up sent {requests} requests, not more than the rate limit of 50.");

        // One real prediction is logged; the warm-up's thousands are not.
        using var analyst = server.Client();
        using var predicted = await analyst.PostAsync("/predict", Bodies.Json(Bodies.Customer(seed: 3)));
        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        await Wait.UntilAsync(async () => await CountLoggedAsync(trained.Path) > loggedBefore, TimeSpan.FromSeconds(30), "the real prediction in the log");
        // The flush writes what the buffer holds at once; a moment more lets anything else buffered arrive too.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(loggedBefore + 1, await CountLoggedAsync(trained.Path));

        Match WarmUpLine() => Regex.Match(server.Output, @"Warmed up the request path with (\d+) requests");
    }

    private static async Task<int> CountLoggedAsync(string dataDir)
    {
        await using var db = LocalStore.Open(dataDir).CreateDbContext();
        return await db.PredictionLog.CountAsync();
    }
}
