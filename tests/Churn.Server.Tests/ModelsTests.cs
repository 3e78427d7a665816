namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ModelsTests(ServerFixture server) : RoleClientTests(server)
{
    [Fact]
    public async Task TheFirstStartRegisteredAndServesAChampion()
    {

        var models = JsonNode.Parse(await Viewer.GetStringAsync("/models"))!.AsArray();
        var champion = models.Single(m => m!["aliases"]!.AsArray().Any(a => (string?)a == "champion"))!;
        var detail = JsonNode.Parse(await Viewer.GetStringAsync($"/models/{champion["version"]}"))!;

        Assert.True(champion["serving"]!.GetValue<bool>());
        Assert.Equal("churn", detail["card"]!["modelName"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await Viewer.GetAsync("/models/999")).StatusCode);
    }

    [Fact]
    public async Task RetrainingRunsInTheBackgroundAndPromotionSwapsModelsUnderLoadWithoutAFailedRequest()
    {
        // This test moves the champion by hand, so the retraining must not promote its challenger on its own.
        (await Admin.PutAsync("/config", Bodies.Json("""{"model": {"promotion_margin": 1}}"""))).EnsureSuccessStatusCode();
        var start = await Admin.PostAsJsonAsync("/retrain", new { rows = 3000, seed = 99 });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var job = await start.ReadObjectAsync();
        Assert.Equal($"/jobs/{job["id"]}", start.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("/retrain", new { rows = 3000 })).StatusCode);

        var finished = await BackgroundJobs.FinishedAsync(Admin, job["id"]!.GetValue<string>());
        (await Admin.PutAsync("/config", Bodies.Json("""{"model": {"promotion_margin": 0.005}}"""))).EnsureSuccessStatusCode();
        Assert.Equal("Succeeded", finished["status"]!.GetValue<string>());
        var newVersion = finished["modelVersion"]!.GetValue<int>();
        var oldVersion = (await (await Admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).ReadObjectAsync())["modelVersion"]!.GetValue<int>();
        Assert.NotEqual(oldVersion, newVersion);

        // Load: several clients predict continuously while the champion moves back and forth.
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var served = 0;
        var body = Bodies.Customer().ToJsonString();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            using var client = Server.ClientFor("service");
            while (!stop.IsCancellationRequested)
            {
                var response = await client.PostAsync("/predict", Bodies.Json(body));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                var version = (await response.ReadObjectAsync())["modelVersion"]!.GetValue<int>();
                seen.AddOrUpdate(version, 1, (_, n) => n + 1);
                Interlocked.Increment(ref served);
            }
        })).ToList();

        for (var round = 0; round < 2; round++)
        {
            var promoted = await Admin.PostAsync($"/models/{newVersion}/promote", null);
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
            await WaitForServedAsync(() => Volatile.Read(ref served), 50);
            var rolledBack = await Admin.PostAsync("/models/rollback", null);
            Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
            Assert.Equal(oldVersion, (await rolledBack.ReadObjectAsync())["version"]!.GetValue<int>());
            await WaitForServedAsync(() => Volatile.Read(ref served), 50);
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.True(seen.ContainsKey(oldVersion) && seen.ContainsKey(newVersion), $"versions served: {string.Join(", ", seen.Keys)}");
        var history = JsonNode.Parse(await Admin.GetStringAsync("/audit?action=model.promote"))!.AsArray();
        Assert.Contains(history, a => (string?)a!["target"] == $"churn:v{newVersion}");
    }

    private static async Task WaitForServedAsync(Func<int> served, int more)
    {
        var target = served() + more;
        while (served() < target)
        {
            await Task.Delay(10);
        }
    }
}
