using System.Collections.Concurrent;

namespace Churn.Scale.Tests;

/// <summary>
/// PostgreSQL stopped during traffic through both replicas, then PostgreSQL and Redis at once: predictions go on from the
/// loaded champion, changes that need the store get 503 ProblemDetails, readiness says so, and every answered prediction
/// is in the store once afterwards.
/// </summary>
[Collection(ScaleCollection.Name)]
public sealed class StoreOutageTests(ScaleFixture deployment, ITestOutputHelper output)
{
    [Fact]
    public async Task WhilePostgresAndThenPostgresAndRedisAreDownBothReplicasServeRefuseChangesWith503AndLoseNothing()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        var key = await ScaleFixture.CreateKeyAsync(adminA, $"outage-{Guid.NewGuid():N}", "service");
        var prefix = $"pgdown-{Guid.NewGuid():N}"[..14] + "-";
        var versions = (await adminA.GetFromJsonAsync<JsonArray>("/models"))!.Select(v => v!["version"]!.GetValue<int>()).ToList();
        // Each replica has seen both keys, as in steady traffic (a key no replica has seen cannot be checked without the store).
        foreach (var replica in new[] { deployment.A, deployment.B })
        {
            using var admin = replica.Client(TestSecrets.AdminKey);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/models")).StatusCode);
            using var service = replica.Client(key);
            Assert.Equal(HttpStatusCode.OK, (await service.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}warm-{replica.InstanceId}", 1))).StatusCode);
        }

        var accepted = new ConcurrentDictionary<Guid, byte>();
        var refused = new ConcurrentBag<string>();
        var sequence = 0;
        using var stop = new CancellationTokenSource();
        async Task TrafficAsync(Replica replica)
        {
            using var client = replica.Client(key);
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sequence);
                var response = await client.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}{n}", n % 500));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    refused.Add($"{replica.InstanceId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                accepted[Guid.Parse((await response.Content.ReadFromJsonAsync<JsonObject>())!["predictionId"]!.GetValue<string>())] = 0;
            }
        }
        var traffic = new[] { deployment.A, deployment.A, deployment.B, deployment.B }.Select(r => Task.Run(() => TrafficAsync(r))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));

        var phases = new List<string>();
        foreach (var withRedis in new[] { false, true })
        {
            var before = accepted.Count;
            await deployment.Postgres.StopAsync();
            if (withRedis)
            {
                await deployment.RedisServer.StopAsync();
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                foreach (var admin in new[] { adminA, adminB })
                {
                    var health = await admin.GetAsync("/health");
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
                    var details = (await health.Content.ReadFromJsonAsync<JsonObject>())!;
                    Assert.Equal("degraded", details["status"]!.GetValue<string>());
                    Assert.False(details["storeAvailable"]!.GetValue<bool>());
                    Assert.True(details["modelLoaded"]!.GetValue<bool>());

                    await AssertStoreAwayAsync(await admin.PostAsync($"/models/{versions.Min()}/promote", Json("""{"reason": "during the outage"}""")), "promote");
                    await AssertStoreAwayAsync(await admin.PostAsJsonAsync("/keys", new { name = $"outage-{Guid.NewGuid():N}", role = "viewer" }), "create a key");
                    await AssertStoreAwayAsync(await admin.PutAsync("/config", Json("""{"api": {"rate_limit": 999999}}""")), "change settings");
                }
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            finally
            {
                await deployment.Postgres.ResumeAsync();
                if (withRedis)
                {
                    await deployment.RedisServer.StartAsync();
                }
            }
            phases.Add($"{(withRedis ? "PostgreSQL and Redis" : "PostgreSQL")} down for about 10 s: {accepted.Count - before} predictions answered 200");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.True(refused.IsEmpty, $"{refused.Count} predictions were not answered 200, e.g. {refused.FirstOrDefault()}");
        var ids = accepted.Keys.ToHashSet();
        HashSet<Guid> logged = [];
        for (var until = DateTime.UtcNow.AddSeconds(90); DateTime.UtcNow < until && !(logged = await deployment.Postgres.LoggedIdsAsync(prefix)).IsSupersetOf(ids);)
        {
            await Task.Delay(500);
        }
        Assert.True(logged.IsSupersetOf(ids), $"{ids.Except(logged).Count()} of {ids.Count} answered predictions are not in the store.\n{deployment.Logs}");
        var rows = await deployment.Postgres.ScalarAsync($"""SELECT COUNT(*) FROM prediction_log WHERE "CustomerId" LIKE '{prefix}%' AND "CustomerId" NOT LIKE '{prefix}warm-%'""");
        Assert.Equal(ids.Count, rows);
        await deployment.WaitUntilAsync(async () => (await adminA.GetAsync("/health")).IsSuccessStatusCode && (await adminB.GetAsync("/health")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), "both replicas ready again");
        // Changes work again once the store is back.
        Assert.Equal(HttpStatusCode.Created, (await adminA.PostAsJsonAsync("/keys", new { name = $"after-{Guid.NewGuid():N}", role = "viewer" })).StatusCode);
        output.WriteLine($"{string.Join("; ", phases)}. In all {ids.Count} answered 200, 0 refused, {rows} rows in the store: 0 lost, 0 duplicated.");
    }

    private static async Task AssertStoreAwayAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what} while the store was down: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("store", JsonNode.Parse(body)!["title"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");
}
