using System.Collections.Concurrent;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Churn.Data.Settings;
using Churn.Server.Monitoring;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Tests;

/// <summary>
/// A second server over a copy of the shared fixture's data directory, with a webhook pointing at a listener on
/// 127.0.0.1 that records each delivery and whether its signature checks out.
/// </summary>
public class MonitoringServer : IAsyncLifetime
{
    public const string Secret = "test-webhook-secret-0123456789";

    // Its own data directory keeps this server's windows, alerts and champion to itself; the first start trains a champion.
    private readonly StoreDirectory dataDir = new("churn-server");
    private LoopbackHttpServer? webhook;

    public ConcurrentQueue<(string Body, bool SignatureValid)> Deliveries { get; } = new();

    public ChurnFactory Factory { get; private set; } = null!;

    public string DataDir => dataDir.Path;

    public Task InitializeAsync()
    {
        webhook = new LoopbackHttpServer(ReceiveAsync);
        var port = webhook.Port;
        Factory = new WebhookFactory(dataDir.Path, $"http://127.0.0.1:{port}/hook", ConfigureServer);
        Factory.CreateClient().Dispose();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        webhook?.Dispose();
        dataDir.Dispose();
    }

    /// <summary>Further host configuration of a derived fixture (a test clock, settings).</summary>
    protected virtual void ConfigureServer(IWebHostBuilder builder)
    {
    }

    public HttpClient Admin() => Factory.ClientWithKey(TestSecrets.AdminKey);

    /// <summary>Posts generated customers in batches of 100 and waits until the log writer has stored them; returns the prediction ids.</summary>
    public async Task<List<(string PredictionId, bool Churned)>> PredictAsync(HttpClient client, int count, int seed, double drift)
    {
        var customers = Bodies.Customers(count, seed, drift);
        var labels = new CustomerGenerator().Rows(new GeneratorOptions { Rows = count, Seed = seed, Drift = drift })
            .Select(cells => cells[^1] == CustomerGenerator.Schema.PositiveLabel).ToList();
        var predictions = await PredictAsync(client, customers);
        return [.. predictions.Select(p => p.PredictionId).Zip(labels)];
    }

    /// <summary>Posts the customers in batches of 100 and waits until the log writer has stored them; returns each prediction's id and probability.</summary>
    public async Task<List<(string PredictionId, double Probability)>> PredictAsync(HttpClient client, IReadOnlyList<JsonObject> customers)
    {
        var result = new List<(string, double)>();
        foreach (var chunk in customers.Chunk(100))
        {
            var response = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. chunk.Select(c => c.DeepClone())]) }));
            response.EnsureSuccessStatusCode();
            var predictions = (await response.ReadObjectAsync())["predictions"]!.AsArray();
            result.AddRange(predictions.Select(p => (p!["predictionId"]!.GetValue<string>(), p["churnProbability"]!.GetValue<double>())));
        }
        var last = Guid.Parse(result[^1].Item1);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            await using var db = Factory.Store.CreateDbContext();
            if (await db.PredictionLog.AnyAsync(p => p.Id == last))
            {
                break;
            }
            await Task.Delay(25);
        }
        return result;
    }

    private Task ReceiveAsync(HttpListenerContext context, byte[] body)
    {
        // The receiver's own check: recompute the HMAC of the raw body with the shared secret.
        var expected = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));
        var valid = context.Request.Headers["X-Churn-Signature"] == expected;
        Deliveries.Enqueue((Encoding.UTF8.GetString(body), valid));
        context.Response.StatusCode = valid ? 204 : 401;
        context.Response.Close();
        return Task.CompletedTask;
    }

    private sealed class WebhookFactory(string dataDir, string url, Action<IWebHostBuilder> configure) : ChurnFactory(dataDir)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            configure(builder);
            builder.UseSetting("Churn:Monitoring:webhook_url", url);
            builder.UseSetting("Churn:Monitoring:webhook_secret", Secret);
            builder.UseSetting("Churn:Monitoring:webhook_backoff", "00:00:00.050");
        }
    }
}

public sealed class MonitoringTests(MonitoringServer server) : IClassFixture<MonitoringServer>
{
    [Fact]
    public async Task ReferenceLikeCustomersShowNoDatasetDriftAndRaiseNoDriftAlert()
    {
        using var admin = server.Admin();
        var from = DateTimeOffset.UtcNow;
        await server.PredictAsync(admin, 400, seed: 11, drift: 0);

        var summary = await (await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null)).ReadObjectAsync();

        Assert.Equal(400, summary["rows"]!.GetValue<int>());
        // Each feature is tested at the 5 % level, so a feature or two may drift by chance; DriftFalseAlarmTests measures the rate.
        Assert.True(summary["driftedShare"]!.GetValue<double>() <= 0.35, summary.ToJsonString());
        Assert.False(summary["datasetDrift"]!.GetValue<bool>());
        Assert.DoesNotContain(summary["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift");
    }

    [Fact]
    public async Task DriftedCustomersRaiseOneSignedDriftAlertThatCoolsDownUntilAcknowledged()
    {
        using var admin = server.Admin();
        var from = DateTimeOffset.UtcNow;
        await server.PredictAsync(admin, 400, seed: 12, drift: 1);
        var run = $"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}";

        var first = await (await admin.PostAsync(run, null)).ReadObjectAsync();
        var second = await (await admin.PostAsync(run, null)).ReadObjectAsync();

        Assert.True(first["datasetDrift"]!.GetValue<bool>(), first.ToJsonString());
        var alert = first["alerts"]!.AsArray().Single(a => (string?)a!["kind"] == "drift")!;
        Assert.DoesNotContain(second["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift");
        var open = JsonNode.Parse(await admin.GetStringAsync("/alerts?open=true"))!.AsArray();
        Assert.Single(open, a => (string?)a!["kind"] == "drift");

        // Delivered to the webhook with a signature the receiver verified.
        for (var i = 0; i < 100 && !server.Deliveries.Any(d => d.Body.Contains(alert["id"]!.GetValue<string>(), StringComparison.Ordinal)); i++)
        {
            await Task.Delay(50);
        }
        var delivery = server.Deliveries.Single(d => d.Body.Contains(alert["id"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.True(delivery.SignatureValid);

        // Acknowledged (as an analyst, audited), the condition may alert again.
        using var analystClient = server.Factory.ClientWithKey(await ServerFixture.CreateKeyAsync(admin, $"analyst-{Guid.NewGuid():N}", "analyst"));
        var acknowledged = await analystClient.PostAsync($"/alerts/{alert["id"]}/acknowledge", null);
        Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        Assert.NotNull((await acknowledged.ReadObjectAsync())["acknowledgedAt"]);
        var audit = JsonNode.Parse(await admin.GetStringAsync("/audit?action=alert.acknowledge"))!.AsArray();
        Assert.Contains(audit, a => (string?)a!["target"] == alert["id"]!.GetValue<string>());
        var third = await (await admin.PostAsync(run, null)).ReadObjectAsync();
        Assert.Contains(third["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift");

        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/drift?from={Uri.EscapeDataString(from.ToString("O"))}"))!.AsArray();
        Assert.Equal(3, series.Count);
        Assert.True(series[0]!["result"]!["datasetDrift"]!.GetValue<bool>());
    }

    [Fact]
    public async Task FeedbackGivesRealisedPerformanceBesideTheEstimateAndTheyAgreeOnGeneratedData()
    {
        using var admin = server.Admin();
        var from = DateTimeOffset.UtcNow;
        var predictions = await server.PredictAsync(admin, 400, seed: 13, drift: 0);
        using var serviceClient = server.Factory.ClientWithKey(await ServerFixture.CreateKeyAsync(admin, $"service-{Guid.NewGuid():N}", "service"));
        foreach (var (id, churned) in predictions)
        {
            (await serviceClient.PostAsync("/feedback", Bodies.Json(new JsonObject { ["predictionId"] = id, ["churned"] = churned }))).EnsureSuccessStatusCode();
        }

        await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null);

        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/performance?from={Uri.EscapeDataString(from.ToString("O"))}"))!.AsArray();
        var version = series[^1]!["result"]!["versions"]!.AsArray().Single()!;
        var realised = version["realised"]!;
        var estimated = version["estimated"]!;
        Assert.Equal(400, realised["labelled"]!.GetValue<int>());
        Assert.InRange(realised["auc"]!.GetValue<double>(), 0.6, 1.0);
        Assert.NotNull(realised["brier"]);
        // The model is calibrated on data from the same generator, so the estimate should land near the truth (measured: within a few points).
        var truthF1 = realised["f1"]!.GetValue<double>();
        Assert.InRange(estimated["f1"]!.GetValue<double>(), truthF1 - 0.15, truthF1 + 0.15);
        Assert.InRange(estimated["expectedPositiveShare"]!.GetValue<double>(), realised["churnRate"]!.GetValue<double>() - 0.1, realised["churnRate"]!.GetValue<double>() + 0.1);
    }

    [Fact]
    public async Task AWindowLongerThanTheRowsACheckReadsIsJudgedOnAllItsPredictionsFromStoredCounts()
    {
        using var admin = server.Admin();
        // More logged predictions than a check reads, spread over the two hours before now (as the predictor logs them).
        var twoHoursAgo = DateTimeOffset.UtcNow.AddHours(-2);
        var start = twoHoursAgo.AddTicks(-(twoHoursAgo.Ticks % TimeSpan.TicksPerSecond));
        var customers = GeneratedCustomers.Json(2_000, seed: 41, drift: 0);
        var logged = MonitoringCheck.MaxRows + 10_000;
        var spacing = TimeSpan.FromHours(2).Ticks / logged;
        await using (var db = server.Factory.Store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, [.. Enumerable.Range(0, logged).Select(i => new PredictionLogEntry
            {
                Id = Guid.CreateVersion7(),
                Time = start.AddTicks(i * spacing),
                ModelName = "churn",
                ModelVersion = 1,
                CustomerId = customers[i % customers.Count]["customerId"]!.GetValue<string>(),
                InputsJson = customers[i % customers.Count]["features"]!.ToJsonString(),
                Probability = 0.3,
            })]);
        }
        var from = Uri.EscapeDataString(start.ToString("O"));

        var summary = await (await admin.PostAsync($"/monitoring/run?from={from}", null)).ReadObjectAsync();
        var buckets = await StoredBucketsAsync();
        var again = await (await admin.PostAsync($"/monitoring/run?from={from}", null)).ReadObjectAsync();

        // The rest of the check reads the newest rows it may; the drift verdict counts every prediction in the window.
        Assert.Equal(MonitoringCheck.MaxRows, summary["rows"]!.GetValue<int>());
        // This test's two checks are the newest (other tests' checks of this server may fall in the same period).
        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/drift?from={from}"))!.AsArray().TakeLast(2).ToList();
        Assert.All(series, point => Assert.Equal(start, point!["windowStart"]!.GetValue<DateTimeOffset>()));
        Assert.All(series, point => Assert.True(point!["result"]!["currentRows"]!.GetValue<int>() >= logged, point.ToJsonString()));
        Assert.All(series, point => Assert.Equal("wasserstein", point!["result"]!["features"]!.AsArray().First(f => (string?)f!["kind"] == "Numeric")!["test"]!.GetValue<string>()));
        Assert.False(summary["datasetDrift"]!.GetValue<bool>(), summary.ToJsonString());
        Assert.Equal(summary["driftedShare"]!.GetValue<double>(), again["driftedShare"]!.GetValue<double>());
        // The whole ten-minute buckets of the window were stored by the first check and kept by the second.
        Assert.InRange(buckets.Count, 10, 12);
        Assert.Equal(buckets, await StoredBucketsAsync());
    }

    private async Task<List<(DateTimeOffset Start, long Rows)>> StoredBucketsAsync()
    {
        await using var db = server.Factory.Store.CreateDbContext();
        return [.. (await db.DriftCounts.Where(c => c.ModelName == "churn").Select(c => new { c.BucketStart, c.LoggedRows, c.Id }).ToListAsync())
            .OrderBy(c => c.BucketStart).Select(c => (c.BucketStart, c.LoggedRows))];
    }

    [Fact]
    public async Task RetentionPurgesOldPredictionLogsInBatchesAndKeepsAggregates()
    {
        var now = DateTimeOffset.UtcNow;
        var old = Enumerable.Range(0, 7).Select(i => new PredictionLogEntry { Id = Guid.NewGuid(), Time = now.AddDays(-200 - i), ModelName = "churn", ModelVersion = 1 }).ToList();
        var recent = new PredictionLogEntry { Id = Guid.NewGuid(), Time = now.AddDays(-1), ModelName = "churn", ModelVersion = 1 };
        await using (var db = server.Factory.Store.CreateDbContext())
        {
            db.PredictionLog.AddRange([.. old, recent]);
            db.MonitoringResults.Add(new MonitoringResult { Kind = "drift", Time = now.AddDays(-200), WindowStart = now.AddDays(-201), WindowEnd = now.AddDays(-200) });
            // Drift counts of a bucket as old as the purged rows, and of a recent one.
            db.DriftCounts.AddRange(
                new DriftCountsEntry { ModelName = "retention-test", BucketStart = WindowDriftCounts.BucketStart(now.AddDays(-200)), LoggedRows = 7 },
                new DriftCountsEntry { ModelName = "retention-test", BucketStart = WindowDriftCounts.BucketStart(now.AddDays(-1)), LoggedRows = 1 });
            await db.SaveChangesAsync();
        }

        var purged = await server.Factory.Services.GetRequiredService<RetentionPurge>().RunAsync(CancellationToken.None);

        Assert.True(purged >= old.Count);
        await using var check = server.Factory.Store.CreateDbContext();
        var oldIds = old.Select(o => o.Id).ToList();
        Assert.False(await check.PredictionLog.AnyAsync(p => oldIds.Contains(p.Id)));
        Assert.True(await check.PredictionLog.AnyAsync(p => p.Id == recent.Id));
        Assert.True(await check.MonitoringResults.AnyAsync(m => m.WindowStart < now.AddDays(-199)));
        Assert.Equal([1L], await check.DriftCounts.Where(c => c.ModelName == "retention-test").Select(c => c.LoggedRows).ToListAsync());
    }

    [Fact]
    public async Task TheTrainingLockRefusesASecondHolderAndARetrainWhileAnotherReplicaHoldsIt()
    {
        var locks = server.Factory.Services.GetRequiredService<StoreLock>();
        Assert.True(await locks.TryAcquireAsync("test-lock", "replica-a", TimeSpan.FromMinutes(5)));
        Assert.False(await locks.TryAcquireAsync("test-lock", "replica-b", TimeSpan.FromMinutes(5)));
        await locks.ReleaseAsync("test-lock", "replica-a");
        Assert.True(await locks.TryAcquireAsync("test-lock", "replica-b", TimeSpan.FromMinutes(5)));
        Assert.True(await locks.TryAcquireAsync("test-lock-expired", "replica-a", TimeSpan.FromMilliseconds(1)));
        await Task.Delay(20);
        Assert.True(await locks.TryAcquireAsync("test-lock-expired", "replica-b", TimeSpan.FromMinutes(5)));

        using var admin = server.Admin();
        // A retraining started by an earlier drift alert may still hold the lock; wait for it to finish.
        var taken = false;
        for (var i = 0; i < 1200 && !taken; i++)
        {
            taken = await locks.TryAcquireAsync(Churn.Data.Retraining.TrainingLock.Name, "other-replica", TimeSpan.FromMinutes(5));
            await Task.Delay(taken ? 0 : 100);
        }
        Assert.True(taken);
        try
        {
            // The lock is taken before POST /retrain answers, so the refusal is immediate and names the holder.
            var refused = await admin.PostAsync("/retrain", null);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("other-replica", (await refused.ReadObjectAsync())["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            await locks.ReleaseAsync(Churn.Data.Retraining.TrainingLock.Name, "other-replica");
        }
    }

    /// <summary>Starts a retraining (waiting out one an alert may have started) and waits for its job to finish.</summary>
    internal static async Task<JsonObject> RetrainAsync(HttpClient admin, string? body)
    {
        for (var attempt = 0; ; attempt++)
        {
            var started = await admin.PostAsync("/retrain", body is null ? null : Bodies.Json(body));
            if (started.StatusCode == HttpStatusCode.Conflict && attempt < 600)
            {
                await Task.Delay(100);
                continue;
            }
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            return await BackgroundJobs.FinishedAsync(admin, (await started.ReadObjectAsync())["id"]!.GetValue<string>());
        }
    }
}
