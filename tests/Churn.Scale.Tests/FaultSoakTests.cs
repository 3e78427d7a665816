using System.Collections.Concurrent;
using System.Diagnostics;

namespace Churn.Scale.Tests;

/// <summary>
/// A bounded soak with faults: load on both replicas while PostgreSQL, Redis, and both at once go away and come back in
/// turn; afterwards memory, open descriptors and the prediction-log lag return to their baseline, and every prediction
/// answered 200 is in the store exactly once.
/// </summary>
[Collection(ScaleCollection.Name)]
public sealed class FaultSoakTests(ScaleFixture deployment, ITestOutputHelper output)
{
    /// <summary>How long faults are injected: 72 s (six faults) by default, <c>CHURN_FAULT_SOAK_SECONDS</c> for a longer run by hand.</summary>
    private static TimeSpan SoakLength => TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("CHURN_FAULT_SOAK_SECONDS"), out var s) && s > 0 ? s : 72);

    /// <summary>How long each fault lasts, and how long the load runs with everything up between two faults.</summary>
    private static readonly TimeSpan FaultLength = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task UnderAlternatingPostgresAndRedisOutagesMemoryHandlesAndLogLagReturnToBaselineAndNothingAnsweredIsLost()
    {
        using var admin = deployment.A.Client(TestSecrets.AdminKey);
        var key = await ScaleFixture.CreateKeyAsync(admin, $"soak-{Guid.NewGuid():N}", "service");
        var prefix = $"soak-{Guid.NewGuid():N}"[..13] + "-";
        var replicas = new[] { deployment.A, deployment.B };
        // Each replica has seen the key, as in steady traffic (a key no replica has seen cannot be checked without the store).
        foreach (var replica in replicas)
        {
            using var client = replica.Client(key);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}warm-{replica.InstanceId}", 1))).StatusCode);
        }
        var load = new Load(prefix, key);

        // Baseline: after a warm-up under the same load, once the log has caught up and the load has stopped.
        await load.RunForAsync(replicas, TimeSpan.FromSeconds(15));
        await WaitForNoLagAsync(load, "the warm-up's predictions to reach the store");
        var baseline = replicas.Select(r => ProcessResources.Of(r.Pid)).ToArray();

        var faults = new List<string>();
        var lagAtRecovery = new List<int>();
        await using (load.Start(replicas))
        {
            var kinds = new[] { "PostgreSQL", "Redis", "PostgreSQL and Redis" };
            var soak = Stopwatch.StartNew();
            for (var i = 0; soak.Elapsed < SoakLength || faults.Count < kinds.Length; i++)
            {
                var kind = kinds[i % kinds.Length];
                var before = load.Answered;
                if (kind.Contains("PostgreSQL", StringComparison.Ordinal))
                {
                    await deployment.Postgres.StopAsync();
                }
                if (kind.Contains("Redis", StringComparison.Ordinal))
                {
                    await deployment.RedisServer.StopAsync();
                }
                await Task.Delay(FaultLength);
                if (kind.Contains("PostgreSQL", StringComparison.Ordinal))
                {
                    await deployment.Postgres.ResumeAsync();
                }
                if (kind.Contains("Redis", StringComparison.Ordinal))
                {
                    await deployment.RedisServer.StartAsync();
                }
                lagAtRecovery.Add(await LagAsync(load));
                faults.Add($"{kind} ({load.Answered - before} answered)");
                await Task.Delay(FaultLength);
            }
        }

        // After the last fault: the lag drains, the replicas are ready, and what they hold returns within the bound.
        await WaitForNoLagAsync(load, "every answered prediction to reach the store after the last fault");
        await deployment.WaitUntilAsync(async () =>
        {
            foreach (var replica in replicas)
            {
                using var client = replica.Client(TestSecrets.AdminKey);
                if (!(await client.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(60), "both replicas ready after the last fault");
        var after = new ProcessResources[replicas.Length];
        await deployment.WaitUntilAsync(() =>
        {
            for (var r = 0; r < replicas.Length; r++)
            {
                after[r] = ProcessResources.Of(replicas[r].Pid);
            }
            return Task.FromResult(Enumerable.Range(0, replicas.Length).All(r => after[r].GrowthBeyond(baseline[r]) is null));
        }, TimeSpan.FromSeconds(120), $"memory and open descriptors back within the bound of the baseline ({string.Join("; ", baseline)})");

        var ids = load.Ids;
        var logged = await deployment.Postgres.LoggedIdsAsync(prefix);
        var rows = await deployment.Postgres.ScalarAsync(
            $"""SELECT COUNT(*) FROM prediction_log WHERE "CustomerId" LIKE '{prefix}%' AND "CustomerId" NOT LIKE '{prefix}warm-%'""");
        var lines = new List<string>
        {
            $"{faults.Count} faults of {FaultLength.TotalSeconds:0} s, each followed by {FaultLength.TotalSeconds:0} s with everything up: {string.Join(", ", faults)}",
            $"{load.Answered} predictions answered 200 ({load.Requests} requests, {load.Refused.Count} not answered 200), {rows} rows in the store: " +
                $"{ids.Except(logged).Count()} lost, {rows - ids.Count} duplicated",
            $"log lag (answered, not yet in the store) when each fault ended: {string.Join(", ", lagAtRecovery)}; 0 after the last",
        };
        lines.AddRange(replicas.Select((r, i) => $"{r.InstanceId}: baseline {baseline[i]}, after {after[i]}"));
        var figures = string.Join(Environment.NewLine, lines);
        output.WriteLine(figures);
        Assert.True(load.Refused.IsEmpty, $"{load.Refused.Count} requests were not answered 200, e.g. {load.Refused.FirstOrDefault()}\n{figures}");
        Assert.True(logged.IsSupersetOf(ids), figures);
        Assert.Equal(ids.Count, rows);
    }

    /// <summary>Answered predictions not yet in the store; -1 while the store cannot be asked.</summary>
    private async Task<int> LagAsync(Load load)
    {
        try
        {
            var ids = load.Ids;
            ids.ExceptWith(await deployment.Postgres.LoggedIdsAsync(load.Prefix));
            return ids.Count;
        }
        catch (Npgsql.NpgsqlException)
        {
            return -1;
        }
    }

    private Task WaitForNoLagAsync(Load load, string what) =>
        deployment.WaitUntilAsync(async () => await LagAsync(load) == 0, TimeSpan.FromSeconds(120), what);

    /// <summary>Two clients per replica sending single and batch predictions, each answered id kept.</summary>
    private sealed class Load(string prefix, string key)
    {
        private readonly ConcurrentDictionary<Guid, byte> ids = new();
        private long requests;
        private int sequence;

        public string Prefix => prefix;

        public ConcurrentBag<string> Refused { get; } = [];

        public long Requests => Interlocked.Read(ref requests);

        public int Answered => ids.Count;

        /// <summary>A snapshot of the ids answered 200 so far.</summary>
        public HashSet<Guid> Ids => [.. ids.Keys];

        public async Task RunForAsync(IEnumerable<Replica> replicas, TimeSpan length)
        {
            await using var running = Start(replicas);
            await Task.Delay(length);
        }

        public Running Start(IEnumerable<Replica> replicas)
        {
            var stop = new CancellationTokenSource();
            var workers = replicas.SelectMany(r => new[] { r, r }).Select(r => Task.Run(() => SendAsync(r, stop.Token))).ToList();
            return new Running(stop, workers);
        }

        private async Task SendAsync(Replica replica, CancellationToken stop)
        {
            using var client = replica.Client(key);
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sequence);
                Interlocked.Increment(ref requests);
                // One request in five is a batch of five.
                var batch = n % 5 == 0;
                HttpResponseMessage response;
                try
                {
                    response = batch
                        ? await client.PostAsync("/predict/batch", BatchBody(n), CancellationToken.None)
                        : await client.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}{n}", n % 500), CancellationToken.None);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Refused.Add($"{replica.InstanceId}: no answer ({ex.Message})");
                    continue;
                }
                using var answer = response;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Refused.Add($"{replica.InstanceId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                    continue;
                }
                var body = (await response.Content.ReadFromJsonAsync<JsonObject>(CancellationToken.None))!;
                foreach (var prediction in batch ? body["predictions"]!.AsArray().Select(p => p!) : [body])
                {
                    ids[Guid.Parse(prediction["predictionId"]!.GetValue<string>())] = 0;
                }
            }
        }

        private StringContent BatchBody(int n)
        {
            var customers = GeneratedCustomers.Json(5, n % 500);
            for (var i = 0; i < customers.Count; i++)
            {
                customers[i]["customerId"] = $"{prefix}{n}-{i}";
            }
            return new StringContent(new JsonObject { ["customers"] = new JsonArray([.. customers]) }.ToJsonString(), Encoding.UTF8, "application/json");
        }
    }

    /// <summary>Load in progress; disposing it stops the clients and waits for their last requests.</summary>
    private sealed class Running(CancellationTokenSource stop, List<Task> workers) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            stop.Dispose();
        }
    }
}
