using System.Collections.Concurrent;

namespace Churn.Scale.Tests;

/// <summary>
/// Two replicas behind nginx over PostgreSQL, Redis and a shared data directory: what an operator scaling out relies on.
/// Each test leaves both replicas running, so they do not depend on each other's order.
/// </summary>
[Collection(ScaleCollection.Name)]
public sealed class ScaleOutTests(ScaleFixture deployment, Xunit.Abstractions.ITestOutputHelper output)
{
    private const string ServiceRole = "service";

    [Fact]
    public async Task ReplicasStartedTogetherOnAnEmptyStoreTrainOnlyOneFirstModel()
    {
        Assert.Equal(1, deployment.VersionsAfterStart);
        Assert.Equal(1, await deployment.Postgres.ScalarAsync("""SELECT COUNT(*) FROM runs WHERE "ParamsJson" LIKE '%"rows":"800"%'"""));
    }

    [Fact]
    public async Task RequestsThroughNginxAreAnsweredByBothReplicas()
    {
        using var proxy = deployment.Proxy(TestSecrets.AdminKey);
        var instances = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            var response = await proxy.GetAsync("/models");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            instances.Add(ScaleFixture.InstanceOf(response));
        }
        Assert.Equal(["replica-a", "replica-b"], instances.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task APromotionThroughOneReplicaIsServedByTheOtherWithoutWaitingForItsPoll()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        if ((await adminA.GetFromJsonAsync<JsonArray>("/models"))!.Count < 2)
        {
            var started = await adminA.PostAsync("/retrain", Json("""{"rows": 600, "seed": 11}"""));
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var job = await WaitForJobAsync(adminA, (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
            Assert.Equal("Succeeded", job["status"]!.GetValue<string>());
        }
        var servingOnB = await ServingVersionAsync(adminB);
        var target = (await adminA.GetFromJsonAsync<JsonArray>("/models"))!.Select(v => v!["version"]!.GetValue<int>()).First(v => v != servingOnB);

        var promoted = await adminA.PostAsync($"/models/{target}/promote", Json("""{"reason": "scale-out test"}"""));
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);

        // The replicas poll the alias only hourly here, so B serving the new version can only come from the notification.
        await deployment.WaitUntilAsync(async () => await ServingVersionAsync(adminB) == target, TimeSpan.FromSeconds(30), $"replica-b serving v{target}");
        using var service = deployment.B.Client(await ScaleFixture.CreateKeyAsync(adminA, $"promotion-{Guid.NewGuid():N}", ServiceRole));
        var prediction = await (await service.PostAsync("/predict", ScaleFixture.PredictBody("promotion-check", 3))).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(target, prediction!["modelVersion"]!.GetValue<int>());
    }

    [Fact]
    public async Task ThePerKeyRateLimitHoldsAcrossReplicasAndRefusalsSayWhenToRetry()
    {
        const int limit = 10;
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        var watcher = await ScaleFixture.CreateKeyAsync(adminA, $"watcher-{Guid.NewGuid():N}", "viewer");
        var caller = await ScaleFixture.CreateKeyAsync(adminA, $"limited-{Guid.NewGuid():N}", ServiceRole);
        using var watcherB = deployment.B.Client(watcher);
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await adminA.PutAsJsonAsync("/config", new { api = new { rate_limit = limit } })).StatusCode);
            // The change is announced: replica B applies it too (a viewer key polls, so the admin key keeps its allowance).
            await deployment.WaitUntilAsync(async () => (await watcherB.GetFromJsonAsync<JsonObject>("/config"))!["api"]!["rate_limit"]!.GetValue<int>() == limit,
                TimeSpan.FromSeconds(30), "replica-b applying api.rate_limit");

            using var proxy = deployment.Proxy(caller);
            var statuses = new List<HttpStatusCode>();
            var instances = new HashSet<string>(StringComparer.Ordinal);
            HttpResponseMessage? refused = null;
            for (var i = 0; i < 3 * limit; i++)
            {
                var response = await proxy.PostAsync("/predict", ScaleFixture.PredictBody($"limited-{i}", i));
                statuses.Add(response.StatusCode);
                instances.Add(ScaleFixture.InstanceOf(response));
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    refused = response;
                }
            }

            Assert.Equal(2, instances.Count);
            Assert.Equal(limit, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(2 * limit, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
            Assert.NotNull(refused);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await adminA.PutAsync("/config", Json("""{"api": {"rate_limit": 1000000}}"""))).StatusCode);
            using var adminB = deployment.B.Client(TestSecrets.AdminKey);
            await deployment.WaitUntilAsync(async () => (await adminB.GetFromJsonAsync<JsonObject>("/config"))!["api"]!["rate_limit"]!.GetValue<int>() == 1000000,
                TimeSpan.FromSeconds(30), "replica-b restoring api.rate_limit");
        }
    }

    [Fact]
    public async Task TwoRetrainRequestsToTwoReplicasStartOneTrainingAndRefuseTheOtherAtOnce()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        var body = """{"rows": 600, "seed": 21}""";
        var answers = await Task.WhenAll(adminA.PostAsync("/retrain", Json(body)), adminB.PostAsync("/retrain", Json(body)));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var refusal = await answers.Single(a => a.StatusCode == HttpStatusCode.Conflict).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("Only one training runs at a time across all replicas", refusal!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        var winner = answers[0].StatusCode == HttpStatusCode.Accepted ? adminA : adminB;
        var id = (await answers.Single(a => a.StatusCode == HttpStatusCode.Accepted).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var job = await WaitForJobAsync(winner, id);
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());
        // The lock is released when the training ends, so the next request anywhere may train.
        Assert.Null(await deployment.TrainingLockHolderAsync());
    }

    [Fact]
    public async Task ChurnRetrainIsRefusedWhileAReplicaTrainsAndBothReplicasRefuseWhileChurnRetrainTrains()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);

        // A replica trains on a large generated sample; the command on the same store is refused at once, naming it.
        var started = await StartRetrainAsync(adminA, """{"rows": 30000, "seed": 31}""");
        var refused = await deployment.ChurnAsync("retrain", "--seed", "1");
        var replicaJob = await WaitForJobAsync(adminA, started);
        Assert.Equal("Succeeded", replicaJob["status"]!.GetValue<string>());
        Assert.True(refused.ExitCode == 3, $"churn retrain while replica-a trained: exit {refused.ExitCode}, {refused.Stderr}{refused.Stdout}");
        Assert.Contains("replica-a/job-", refused.Stderr, StringComparison.Ordinal);

        // The command trains on a large reference (kept back by a margin no challenger reaches, so the champion stays);
        // while it holds the lock, POST /retrain is refused by both replicas, naming the command's process.
        var reference = Path.Combine(deployment.DataDir, $"reference-{Guid.NewGuid():N}.csv");
        var generated = await deployment.ChurnAsync("generate", "--rows", "30000", "--seed", "32", "--out", reference);
        Assert.Equal(0, generated.ExitCode);
        using var command = deployment.StartChurn("retrain", "--reference", reference, "--margin", "1", "--seed", "2");
        var finished = ScaleFixture.FinishAsync(command);
        await deployment.WaitUntilAsync(async () => finished.IsCompleted || (await deployment.TrainingLockHolderAsync())?.EndsWith(":cli", StringComparison.Ordinal) == true,
            TimeSpan.FromMinutes(2), "churn retrain holding the training lock");
        if (finished.IsCompleted)
        {
            Assert.Fail($"churn retrain finished before the replicas were asked: {(await finished).Stderr}");
        }
        foreach (var admin in new[] { adminA, adminB })
        {
            var answer = await admin.PostAsync("/retrain", Json("""{"rows": 600, "seed": 33}"""));
            if (answer.StatusCode != HttpStatusCode.Conflict)
            {
                var (code, output, errors) = await finished;
                Assert.Fail($"POST /retrain answered {answer.StatusCode} while churn retrain ran; churn retrain: exit {code}, {errors}{output}");
            }
            Assert.Contains(":cli", (await answer.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        var (exitCode, stdout, stderr) = await finished;
        Assert.True(exitCode == 2, $"churn retrain: exit {exitCode}, {stderr}{stdout}");
        Assert.Null(await deployment.TrainingLockHolderAsync());
    }

    /// <summary>Starts a retraining through <paramref name="admin"/>, waiting out one another test may have running; returns the job id.</summary>
    private async Task<string> StartRetrainAsync(HttpClient admin, string body)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            var started = await admin.PostAsync("/retrain", Json(body));
            if (started.StatusCode == HttpStatusCode.Accepted)
            {
                return (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            }
            Assert.Equal(HttpStatusCode.Conflict, started.StatusCode);
            await Task.Delay(200);
        }
        throw new TimeoutException($"No retraining could start within two minutes.\n{deployment.Logs}");
    }

    [Fact]
    public async Task KillingAReplicaMidLoadLosesNoAcceptedPredictionAndTheOtherKeepsServing()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        var key = await ScaleFixture.CreateKeyAsync(adminA, $"load-{Guid.NewGuid():N}", ServiceRole);
        var prefix = $"kill-{Guid.NewGuid():N}"[..13] + "-";
        var accepted = new ConcurrentDictionary<Guid, string>();
        var failed = new ConcurrentBag<string>();
        var afterKill = 0;
        var killed = 0;
        var sequence = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        async Task WorkAsync()
        {
            using var proxy = deployment.Proxy(key);
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sequence);
                try
                {
                    var response = await proxy.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}{n}", n % 500));
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failed.Add($"{(int)response.StatusCode}");
                        continue;
                    }
                    var body = await response.Content.ReadFromJsonAsync<JsonObject>();
                    accepted[Guid.Parse(body!["predictionId"]!.GetValue<string>())] = ScaleFixture.InstanceOf(response);
                    if (Volatile.Read(ref killed) == 1 && Interlocked.Increment(ref afterKill) >= 150)
                    {
                        await stop.CancelAsync();
                    }
                }
                catch (HttpRequestException)
                {
                    // nginx cut the response off: the replica died while answering, so the client was not told it was accepted.
                    failed.Add("cut");
                }
            }
        }

        var workers = Enumerable.Range(0, 6).Select(_ => Task.Run(WorkAsync)).ToList();
        await deployment.WaitUntilAsync(() => Task.FromResult(accepted.Values.Count(i => i == "replica-a") >= 100), TimeSpan.FromSeconds(60), "100 predictions by replica-a");
        await deployment.A.KillAsync();
        Volatile.Write(ref killed, 1);
        await Task.WhenAll(workers);
        Assert.True(afterKill >= 150, $"Only {afterKill} predictions were answered after replica-a was killed.\n{deployment.Logs}");

        // The same instance id picks up what the killed process had journaled but not yet stored.
        deployment.A.Start();
        await deployment.A.WaitReadyAsync(TimeSpan.FromMinutes(2));
        var ids = accepted.Keys.ToHashSet();
        HashSet<Guid> logged = [];
        await deployment.WaitUntilAsync(async () => (logged = await deployment.Postgres.LoggedIdsAsync(prefix)).IsSupersetOf(ids),
            TimeSpan.FromSeconds(60), $"all {ids.Count} accepted predictions in the store ({ids.Except(logged).Count()} missing)");
        output.WriteLine($"{ids.Count} answered ({afterKill} after the kill), {failed.Count} not answered ({string.Join(", ", failed.GroupBy(f => f).Select(g => $"{g.Key}: {g.Count()}"))}), {logged.Count} logged.");
        output.WriteLine(string.Join("\n", deployment.A.Output.Split('\n').Where(l => l.Contains("journal", StringComparison.OrdinalIgnoreCase) || l.Contains("Replayed", StringComparison.Ordinal))));
        // Requests cut off by the kill were journaled but never answered; only those may be logged beyond the 200s.
        Assert.InRange(logged.Count, ids.Count, ids.Count + failed.Count);
        Assert.All(failed, f => Assert.True(f is "502" or "504" or "cut", $"Unexpected failure through nginx: {f}"));
    }

    [Fact]
    public async Task OneReplicaLeadsAndALeaderStoppedWithSigtermFlushesItsLogAndHandsOver()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        (bool A, bool B) leaders = default;
        await deployment.WaitUntilAsync(async () =>
        {
            leaders = (await IsLeaderAsync(adminA), await IsLeaderAsync(adminB));
            return leaders.A != leaders.B;
        }, TimeSpan.FromSeconds(30), "exactly one leader");
        var (leader, other, otherAdmin) = leaders.A ? (deployment.A, deployment.B, adminB) : (deployment.B, deployment.A, adminA);

        var key = await ScaleFixture.CreateKeyAsync(adminA, $"term-{Guid.NewGuid():N}", ServiceRole);
        var prefix = $"term-{Guid.NewGuid():N}"[..13] + "-";
        var accepted = new ConcurrentBag<Guid>();
        var sequence = 0;
        var terminating = false;
        async Task WorkAsync()
        {
            using var client = leader.Client(key);
            while (true)
            {
                var n = Interlocked.Increment(ref sequence);
                HttpResponseMessage response;
                try
                {
                    response = await client.PostAsync("/predict", ScaleFixture.PredictBody($"{prefix}{n}", n % 500));
                }
                catch (HttpRequestException) when (Volatile.Read(ref terminating))
                {
                    return;
                }
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.True(Volatile.Read(ref terminating), $"{(int)response.StatusCode} before SIGTERM");
                    return;
                }
                var body = await response.Content.ReadFromJsonAsync<JsonObject>();
                accepted.Add(Guid.Parse(body!["predictionId"]!.GetValue<string>()));
            }
        }

        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(WorkAsync)).ToList();
        await deployment.WaitUntilAsync(() => Task.FromResult(accepted.Count >= 200), TimeSpan.FromSeconds(60), "200 predictions before SIGTERM");
        Volatile.Write(ref terminating, true);
        var exitCode = await leader.StopGracefullyAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(workers);

        Assert.Equal(0, exitCode);
        // Flushed on the way out: everything it answered is in the store the moment it has exited, and its journal is gone.
        var logged = await deployment.Postgres.LoggedIdsAsync(prefix);
        Assert.True(logged.IsSupersetOf(accepted), $"{accepted.Count(id => !logged.Contains(id))} of {accepted.Count} answered predictions are not in the store.");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(deployment.DataDir, "journal", leader.InstanceId), "segment-*"));
        // The lease was released rather than left to expire, so the other replica takes over at its next attempt.
        await deployment.WaitUntilAsync(() => IsLeaderAsync(otherAdmin), TimeSpan.FromSeconds(15), $"{other.InstanceId} taking the leader lease");

        leader.Start();
        await leader.WaitReadyAsync(TimeSpan.FromMinutes(2));
        using var restarted = leader.Client(TestSecrets.AdminKey);
        Assert.False(await IsLeaderAsync(restarted));
    }

    [Fact]
    public async Task WhileRedisIsDownReplicasKeepServingWithRateLimitsOpenAndCoordinateAgainOnceItIsBack()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        var key = await ScaleFixture.CreateKeyAsync(adminA, $"outage-{Guid.NewGuid():N}", ServiceRole);
        using var proxy = deployment.Proxy(key);
        await deployment.RedisServer.StopAsync();
        try
        {
            var instances = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < 20; i++)
            {
                var response = await proxy.PostAsync("/predict", ScaleFixture.PredictBody($"outage-{i}", i));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                instances.Add(ScaleFixture.InstanceOf(response));
            }
            Assert.Equal(2, instances.Count);
            Assert.Contains("rate limits are not enforced", deployment.A.Output + deployment.B.Output, StringComparison.Ordinal);
        }
        finally
        {
            await deployment.RedisServer.StartAsync();
        }

        // Back (empty): the replicas reconnect by themselves and one of them takes the leader lease again.
        await deployment.WaitUntilAsync(async () => await IsLeaderAsync(adminA) != await IsLeaderAsync(adminB), TimeSpan.FromSeconds(60), "one leader after Redis came back");
        await deployment.WaitUntilAsync(async () => await deployment.Redis.GetDatabase().KeyExistsAsync("churn:lock:leader"), TimeSpan.FromSeconds(30), "the leader lease in Redis");
    }

    [Fact]
    public async Task AKeyRevokedOnOneReplicaIsRefusedByTheOtherBeforeItsCacheExpires()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        var name = $"revoked-{Guid.NewGuid():N}";
        var key = await ScaleFixture.CreateKeyAsync(adminA, name, "viewer");
        using var onB = deployment.B.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/models")).StatusCode);
        var id = (await adminA.GetFromJsonAsync<JsonArray>("/keys"))!.Single(k => k!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<string>();

        Assert.True((await adminA.DeleteAsync($"/keys/{id}")).IsSuccessStatusCode);

        // B cached the key for 30 s when it was used; refusing it sooner than that means the revocation was announced.
        await deployment.WaitUntilAsync(async () => (await onB.GetAsync("/models")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(15), "replica-b refusing the revoked key");
    }

    private static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    private static async Task<int> ServingVersionAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<JsonObject>("/health"))!["modelVersion"]!.GetValue<int>();

    private static async Task<bool> IsLeaderAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<JsonObject>("/health"))!["leader"]!.GetValue<bool>();

    private static async Task<JsonObject> WaitForJobAsync(HttpClient client, string id)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var job = (await client.GetFromJsonAsync<JsonObject>($"/jobs/{id}"))!;
            if (job["status"]!.GetValue<string>() is "Succeeded" or "Failed")
            {
                return job;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {id} did not finish within 2 minutes.");
    }
}
