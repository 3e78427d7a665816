using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Churn.Server.Health;
using Churn.Server.Jobs;

namespace Churn.Reliability.Tests.Load;

[Collection(ReliabilityCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output) : TrainedCopyTests
{
    /// <summary>
    /// A server started without launch.sh runs without the runtime settings it sets (ADR 0009) and says so in its log,
    /// naming each one missing; started with them, as through the launcher, it says nothing. Its start-up line on the
    /// runtime says what the process runs with: tiered PGO off as built (Directory.Build.props), on when the environment
    /// turns it back on, and each launcher setting as set.
    /// </summary>
    [Fact]
    public async Task AServerStartedWithoutTheLaunchersSettingsWarnsNamingThem()
    {
        const string Warning = "Started without launch.sh";
        string without, with, one;
        await using (var server = await ServerProcess.StartAsync(DataDir, environment: new Dictionary<string, string?> { ["DOTNET_GCgen0size"] = null, ["MALLOC_ARENA_MAX"] = null }))
        {
            without = server.Output;
        }
        await using (var server = await ServerProcess.StartAsync(DataDir, environment: new Dictionary<string, string?> { ["DOTNET_GCgen0size"] = "0x1000000", ["MALLOC_ARENA_MAX"] = null, ["DOTNET_TieredPGO"] = "1" }))
        {
            one = server.Output;
        }
        await using (var server = await ServerProcess.StartAsync(DataDir, environment: new Dictionary<string, string?> { ["DOTNET_GCgen0size"] = "0x1000000", ["MALLOC_ARENA_MAX"] = "2" }))
        {
            with = server.Output;
        }

        Assert.Contains($"{Warning}: DOTNET_GCgen0size and MALLOC_ARENA_MAX not set", without, StringComparison.Ordinal);
        Assert.Contains($"{Warning}: MALLOC_ARENA_MAX not set", one, StringComparison.Ordinal);
        Assert.DoesNotContain(Warning, with, StringComparison.Ordinal);
        Assert.Contains("Runtime: workstation collector (concurrent), tiered PGO off, DOTNET_GCgen0size=unset, MALLOC_ARENA_MAX=unset.", without, StringComparison.Ordinal);
        Assert.Contains("tiered PGO on, DOTNET_GCgen0size=0x1000000, MALLOC_ARENA_MAX=unset.", one, StringComparison.Ordinal);
        Assert.Contains("tiered PGO off, DOTNET_GCgen0size=0x1000000, MALLOC_ARENA_MAX=2.", with, StringComparison.Ordinal);
    }

    /// <summary>
    /// A single node on SQLite, after start-up, a prediction and its log's write to the store, has loaded neither
    /// PostgreSQL's provider nor the Redis client (StoreFactory keeps each provider's code apart, and code that also runs
    /// on one node reaches Redis through RedisParts; bench/NOTES.md, 2026-12-02 third session): the process's memory maps
    /// name no Npgsql or StackExchange.Redis assembly, while they do name SQLite's.
    /// </summary>
    [Fact]
    public async Task ASingleNodeOnSqliteLoadsNeitherThePostgreSqlProviderNorTheRedisClient()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var client = server.Client();
        var loggedBefore = await CountLoggedAsync(DataDir);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);
        await Wait.UntilAsync(async () => await CountLoggedAsync(DataDir) > loggedBefore, TimeSpan.FromSeconds(60), "the prediction in the store's log", () => server.Output);

        var maps = await File.ReadAllTextAsync($"/proc/{server.Pid}/maps");
        Assert.Contains("Microsoft.EntityFrameworkCore.Sqlite.dll", maps, StringComparison.Ordinal);
        Assert.DoesNotContain("Npgsql", maps, StringComparison.Ordinal);
        Assert.DoesNotContain("StackExchange.Redis", maps, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABurstFarAboveTheRateLimitGets429sWithRetryAfterAndNoRequestTimesOut()
    {
        const int limit = 60;
        await using var server = await ServerProcess.StartAsync(DataDir, new Dictionary<string, string> { ["Churn:Api:rate_limit"] = limit.ToString(CultureInfo.InvariantCulture) });
        using var admin = server.Client();
        // A key of its own, so the burst is the only traffic in its rate-limit window.
        var key = (await SharedServer.CreateKeyAsync(admin, "burst", "service")).Secret;
        using var client = server.Client(key, timeout: TimeSpan.FromSeconds(60));
        var statuses = new ConcurrentDictionary<int, int>();
        var problems = new ConcurrentQueue<string>();
        var body = Bodies.Customer().ToJsonString();

        await Parallel.ForEachAsync(Enumerable.Range(0, 1200), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (_, ct) =>
        {
            using var response = await client.PostAsync("/predict", Bodies.Json(body), ct);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status == 429 && (response.Headers.RetryAfter is null || response.Content.Headers.ContentType?.MediaType != "application/problem+json"))
            {
                problems.Enqueue("a 429 without Retry-After or ProblemDetails");
            }
            else if (status is not (200 or 429))
            {
                problems.Enqueue($"status {status}");
            }
        });

        output.WriteLine($"1200 requests, 64 at a time, rate limit {limit}/min: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        Assert.Empty(problems);
        // A fixed one-minute window can open once during the burst, so at most two windows' worth get through.
        Assert.InRange(statuses.GetValueOrDefault(200), 1, 2 * limit);
        Assert.True(statuses.GetValueOrDefault(429) >= 1200 - (2 * limit));
    }

    /// <summary>Seconds of steady load; CHURN_SOAK_SECONDS lengthens it for a run by hand.</summary>
    private static int SoakSeconds => int.TryParse(Environment.GetEnvironmentVariable("CHURN_SOAK_SECONDS"), out var s) && s > 0 ? s : 60;

    [Fact]
    public async Task UnderSteadyLoadMemoryAndOpenFilesDoNotGrow()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var client = server.Client();
        var single = Bodies.Customer().ToJsonString();
        var batch = new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(20)]) }.ToJsonString();
        var requests = 0L;
        var failures = 0L;
        var warmUp = TimeSpan.FromSeconds(Math.Max(10, SoakSeconds / 4));
        var end = DateTime.UtcNow + warmUp + TimeSpan.FromSeconds(SoakSeconds);
        ProcessResources? warm = null;

        var workers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var i = 0;
            while (DateTime.UtcNow < end)
            {
                // Mostly single predictions, with batches, reads and a refused request mixed in.
                using var response = (i++ % 10) switch
                {
                    0 => await client.PostAsync("/predict/batch", Bodies.Json(batch)),
                    1 => await client.GetAsync("/models"),
                    2 => await client.PostAsync("/predict", Bodies.Json("{\"features\": 1}")),
                    3 => await client.GetAsync("/health"),
                    _ => await client.PostAsync("/predict", Bodies.Json(single)),
                };
                Interlocked.Increment(ref requests);
                if ((int)response.StatusCode >= 500)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();
        await Task.Delay(warmUp);
        warm = server.Resources();
        await Task.WhenAll(workers);
        var last = server.Resources();

        var growth = (last.RssBytes - warm.Value.RssBytes) / 1024.0 / 1024.0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak {SoakSeconds} s after {warmUp.TotalSeconds:0} s warm-up, {requests} requests: RSS {warm.Value.RssBytes / 1048576.0:0.0} MB -> {last.RssBytes / 1048576.0:0.0} MB ({growth:+0.0;-0.0} MB), open fds {warm.Value.OpenFds} -> {last.OpenFds}"));
        Assert.Equal(0, failures);
        Assert.Null(last.GrowthBeyond(warm.Value));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    /// <summary>
    /// A large file job, done with no other job waiting, gives the buffers it grew back to the system in one full
    /// collection and logs it; a small job does not pause the server for that.
    /// </summary>
    [Fact]
    public async Task ALargeFileJobReturnsItsMemoryOnceItIsDoneAndASmallOneDoesNot()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var client = server.Client();

        // Small first: jobs run one after another, so a line for it would be in the log before the large job's.
        var small = await ScoreFileAsync(client, 100);
        var large = await ScoreFileAsync(client, (int)ScoringJob.ReturnMemoryFromRows);

        await Wait.UntilAsync(() => Task.FromResult(Returned(large).Success), TimeSpan.FromSeconds(10), "the large job's memory line in the log", () => server.Output);
        output.WriteLine(Returned(large).Value);
        Assert.Equal(ScoringJob.ReturnMemoryFromRows, long.Parse(Returned(large).Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.False(Returned(small).Success, $"The 100-row job {small} was followed by a full collection:\n{server.Output}");

        Match Returned(string job) => Regex.Match(server.Output, $@"Scoring job {job} \((\d+) rows\) done; returned its memory in a \d+ ms collection");
    }

    /// <summary>A retraining, once done, gives the memory it grew back to the system in one full collection and logs it.</summary>
    [Fact]
    public async Task ARetrainingReturnsItsMemoryOnceItIsDone()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var admin = server.Client();

        using var started = await admin.PostAsJsonAsync("/retrain", new { rows = 2000, seed = 9 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        var job = await BackgroundJobs.FinishedAsync(admin, id);
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());

        await Wait.UntilAsync(() => Task.FromResult(Returned().Success), TimeSpan.FromSeconds(10), "the retraining's memory line in the log", () => server.Output);
        output.WriteLine(Returned().Value);

        Match Returned() => Regex.Match(server.Output, $@"Retraining job {id} done; returned its memory in a \d+ ms collection");
    }

    private static async Task<string> ScoreFileAsync(HttpClient client, int rows)
    {
        using var started = await client.PostAsync("/jobs/score", new StringContent(Bodies.Csv(rows, seed: 5), System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        var job = await BackgroundJobs.FinishedAsync(client, id);
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());
        return id;
    }

    /// <summary>
    /// A started server warms its own request path and its file scoring before it reports ready, and leaves no trace of
    /// that in the log, the jobs or the data folder.
    /// </summary>
    [Fact]
    public async Task TheServerReportsWarmingUntilItHasDrivenItsOwnPredictPathThenLogsOnlyRealPredictions()
    {
        var loggedBefore = await CountLoggedAsync(DataDir);
        var jobsBefore = await CountJobsAsync(DataDir);
        var jobFolder = Path.Combine(DataDir, "jobs");
        var jobFoldersBefore = Directory.Exists(jobFolder) ? Directory.GetFileSystemEntries(jobFolder).Length : 0;
        // A rate limit far below the warm-up's request count: the warm-up must not be limited (nor use up a window).
        await using var server = await ServerProcess.StartAsync(DataDir, new Dictionary<string, string>
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
        // The interoperability endpoints were driven too, each answering 200 (a refused warm-up request ends the warm-up
        // early, without this line), and their predictions are not logged either (checked below).
        var interop = int.Parse(WarmUpLine().Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(interop >= requests / 10 - 1, $"The warm-up sent {interop} of its {requests} requests to /invocations and /v2.");
        // The file-scoring pipeline was rehearsed in process, many times over, without a job or a file to show for it.
        var rehearsed = long.Parse(WarmUpLine().Groups[3].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"rehearsed file rows: {rehearsed}");
        Assert.True(rehearsed >= 10 * RequestWarmUp.RehearsalRows, $"The warm-up rehearsed {rehearsed} file rows.");
        Assert.Equal(jobsBefore, await CountJobsAsync(DataDir));
        Assert.Equal(jobFoldersBefore, Directory.Exists(jobFolder) ? Directory.GetFileSystemEntries(jobFolder).Length : 0);

        // One real prediction is logged; the warm-up's thousands are not.
        using var analyst = server.Client();
        using var predicted = await analyst.PostAsync("/predict", Bodies.Json(Bodies.Customer(seed: 3)));
        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        await Wait.UntilAsync(async () => await CountLoggedAsync(DataDir) > loggedBefore, TimeSpan.FromSeconds(30), "the real prediction in the log");
        // The flush writes what the buffer holds at once; a moment more lets anything else buffered arrive too.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(loggedBefore + 1, await CountLoggedAsync(DataDir));

        Match WarmUpLine() => Regex.Match(server.Output, @"Warmed up the request path with (\d+) requests \((\d+) of them to /invocations and /v2\) and (\d+) rehearsed file rows");
    }

    private static async Task<int> CountJobsAsync(string dataDir)
    {
        await using var db = LocalStore.Open(dataDir).CreateDbContext();
        return await db.Jobs.CountAsync();
    }

    private static async Task<int> CountLoggedAsync(string dataDir)
    {
        await using var db = LocalStore.Open(dataDir).CreateDbContext();
        return await db.PredictionLog.CountAsync();
    }
}
