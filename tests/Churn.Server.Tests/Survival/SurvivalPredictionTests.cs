using Churn.Core.Survival;
using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Tests.Survival;

/// <summary>
/// A server of its own (so other tests' predictions stay without a survival object) whose store gets a survival champion
/// trained on generated customers: tenure as the duration, churn as the event, monthly charges as the value.
/// </summary>
public sealed class SurvivalPredictionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task WithASurvivalChampionPredictionsCarryHorizonsLifetimeAndRevenueAtRisk()
    {
        using var client = await ClientServedSurvivalAsync("service");
        var version = await RegisterSurvivalChampionAsync();
        var customer = Bodies.Customer(seed: 11);
        var prediction = await PredictWithSurvivalAsync(client, customer);

        var survival = prediction["survival"]!;
        Assert.Equal(SurvivalOptions.DefaultModelName, survival["modelName"]!.GetValue<string>());
        Assert.Equal(version, survival["modelVersion"]!.GetValue<int>());
        var features = customer["features"]!;
        Assert.Equal(features["tenureMonths"]!.GetValue<double>(), survival["elapsed"]!.GetValue<double>());
        var horizons = survival["horizons"]!.AsArray();
        Assert.Equal([1.0, 3, 6, 12], horizons.Select(h => h!["horizon"]!.GetValue<double>()));
        var probabilities = horizons.Select(h => h!["probability"]!.GetValue<double>()).ToArray();
        Assert.All(probabilities, p => Assert.InRange(p, 0, 1));
        Assert.True(probabilities.Zip(probabilities.Skip(1)).All(p => p.First <= p.Second));
        var lifetime = survival["expectedLifetime"]!.GetValue<double>();
        Assert.InRange(lifetime, 0, 12);
        Assert.Equal(Math.Round(features["monthlyCharges"]!.GetValue<double>() * (12 - lifetime), 2), survival["revenueAtRisk"]!.GetValue<double>(), 1e-1);
        var curve = survival["curve"]!.AsArray();
        Assert.NotEmpty(curve);
        Assert.True(curve.Select(p => p!["survival"]!.GetValue<double>()).Zip(curve.Skip(1).Select(p => p!["survival"]!.GetValue<double>())).All(p => p.First >= p.Second));
    }

    [Fact]
    public async Task ABatchGivesEachCustomerTheSameSurvivalAsASinglePredictionAndTenureConditionsIt()
    {
        using var client = await ClientServedSurvivalAsync("service");
        var customers = Bodies.Customers(3, seed: 21);

        var batch = await (await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers.Select(c => c.DeepClone())]) }))).ReadObjectAsync();
        var single = await (await client.PostAsync("/predict", Bodies.Json(customers[1].DeepClone()))).ReadObjectAsync();

        var predictions = batch["predictions"]!.AsArray();
        Assert.Equal(3, predictions.Count);
        Assert.All(predictions, p => Assert.NotNull(p!["survival"]));
        Assert.Equal(single["survival"]!["horizons"]!.ToJsonString(), predictions[1]!["survival"]!["horizons"]!.ToJsonString());

        // The same customer as a new one and as one far past any tenure in the training data: the outlook is conditional
        // on the time so far, and horizons past the data are flagged.
        var fresh = await SurvivalOfAsync(client, customers[2], tenure: 0);
        var late = await SurvivalOfAsync(client, customers[2], tenure: 500);
        Assert.Equal(0, fresh["elapsed"]!.GetValue<double>());
        Assert.Equal(500, late["elapsed"]!.GetValue<double>());
        Assert.All(fresh["horizons"]!.AsArray(), h => Assert.False(h!["beyondData"]!.GetValue<bool>()));
        Assert.All(late["horizons"]!.AsArray(), h => Assert.True(h!["beyondData"]!.GetValue<bool>()));
        Assert.NotEqual(fresh["horizons"]!.ToJsonString(), late["horizons"]!.ToJsonString());
    }

    [Fact]
    public async Task ANegativeTimeSoFarIsRefusedNamingTheFieldInASingleAndABatchPrediction()
    {
        using var client = await ClientServedSurvivalAsync("service");
        var customers = Bodies.Customers(2, seed: 31);
        var negative = customers[1].DeepClone();
        negative["features"]!["tenureMonths"] = -3;

        var single = await client.PostAsync("/predict", Bodies.Json(negative.DeepClone()));
        var errors = await single.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "features.tenureMonths");
        Assert.Contains("cannot be negative", errors["features.tenureMonths"]!.ToJsonString(), StringComparison.Ordinal);
        var batch = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray(customers[0].DeepClone(), negative.DeepClone()) }));
        errors = await batch.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "customers[1].features.tenureMonths");
        Assert.Contains("cannot be negative", errors["customers[1].features.tenureMonths"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentPredictionsGiveEachCustomerTheSameSurvival()
    {
        using var client = await ClientServedSurvivalAsync("service");
        var customers = Bodies.Customers(4, seed: 31);
        var expected = new string[customers.Count];
        for (var c = 0; c < customers.Count; c++)
        {
            expected[c] = (await SurvivalOfAsync(client, customers[c], customers[c]["features"]!["tenureMonths"]!.GetValue<double>())).ToJsonString();
        }

        // The survival model is shared by every request thread; answers must not depend on what runs beside them.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var c = i % customers.Count;
            var survival = await SurvivalOfAsync(client, customers[c], customers[c]["features"]!["tenureMonths"]!.GetValue<double>());
            return (c, survival.ToJsonString());
        }));

        Assert.All(answers, a => Assert.Equal(expected[a.c], a.Item2));
    }

    [Fact]
    public async Task AScoredFileCarriesEachCustomersSurvivalColumnsAsPredictGivesThem()
    {
        using var client = await ClientServedSurvivalAsync("analyst");
        var customers = Bodies.Customers(20, seed: 41);

        var started = await client.PostAsync("/jobs/score", new StringContent(Bodies.Csv(20, seed: 41), System.Text.Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        Assert.Equal("Succeeded", (await BackgroundJobs.FinishedAsync(client, id))["status"]!.GetValue<string>());
        var lines = (await client.GetStringAsync($"/jobs/{id}/result")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.Equal(["churnWithin_1", "churnWithin_3", "churnWithin_6", "churnWithin_12", "expectedLifetime", "revenueAtRisk"], header[^6..]);
        Assert.Equal(21, lines.Length);
        for (var row = 0; row < 5; row++)
        {
            var cells = lines[row + 1].Split(',');
            Assert.Equal(header.Length, cells.Length);
            // The file's tenure is the customer's time so far, as the request's is on /predict.
            var survival = await SurvivalOfAsync(client, customers[row], customers[row]["features"]!["tenureMonths"]!.GetValue<double>());
            var horizons = survival["horizons"]!.AsArray();
            for (var h = 0; h < 4; h++)
            {
                Assert.Equal(horizons[h]!["probability"]!.GetValue<double>(), Number(cells[header.Length - 6 + h]));
            }
            Assert.Equal(survival["expectedLifetime"]!.GetValue<double>(), Number(cells[^2]));
            Assert.Equal(survival["revenueAtRisk"]!.GetValue<double>(), Number(cells[^1]));
        }
    }

    [Fact]
    public async Task TheRealisedCIndexComparesTheServedRankingWithReportedChurnDates()
    {
        using var service = await ClientServedSurvivalAsync("service");
        using var analyst = server.ClientFor("analyst");
        var from = DateTimeOffset.UtcNow;
        var response = await service.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(40, seed: 51)]) }));
        var predictions = (await response.ReadObjectAsync())["predictions"]!.AsArray()
            .Select(p => (Id: p!["predictionId"]!.GetValue<string>(), Lifetime: p["survival"]!["expectedLifetime"]!.GetValue<double>())).ToList();
        await WaitUntilLoggedAsync(Guid.Parse(predictions[^1].Id));

        // The half expected to stay the shortest churn, in that order (one day apart); the others are still customers after
        // 400 days. So the served ranking matches what happened, except where two expected lifetimes are equal.
        var order = predictions.OrderBy(p => p.Lifetime).ToList();
        var durations = new double[order.Count];
        var events = new bool[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            events[i] = i < order.Count / 2;
            durations[i] = events[i] ? i + 1 : 400;
            var feedback = new JsonObject { ["predictionId"] = order[i].Id, ["churned"] = events[i], ["observedAt"] = from.AddDays(durations[i]).ToString("O") };
            (await service.PostAsync("/feedback", Bodies.Json(feedback))).EnsureSuccessStatusCode();
        }
        var realised = JsonNode.Parse(await analyst.GetStringAsync($"/monitoring/survival?from={Uri.EscapeDataString(from.ToString("O"))}"))!;
        var none = await analyst.GetAsync($"/monitoring/survival?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(from.AddDays(-1).ToString("O"))}");

        Assert.Equal(40, realised["labelled"]!.GetValue<int>());
        Assert.Equal(20, realised["churned"]!.GetValue<int>());
        Assert.Equal(0, realised["skipped"]!.GetValue<int>());
        // The same index from the lifetimes /predict answered (rounded to 4 decimals, which can only add ties).
        var expected = SurvivalMetrics.ConcordanceIndex(durations, events, [.. order.Select(p => -p.Lifetime)]);
        Assert.InRange(realised["cIndex"]!.GetValue<double>(), expected - 0.01, Math.Min(1, expected + 0.01));
        Assert.True(expected > 0.95, $"expected {expected}");
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("from", (await none.ReadObjectAsync())["errors"]!.AsObject().Select(e => e.Key));
    }

    private Task WaitUntilLoggedAsync(Guid prediction) => Wait.UntilAsync(async () =>
    {
        await using var db = server.Factory.Store.CreateDbContext();
        return await db.PredictionLog.AnyAsync(p => p.Id == prediction);
    }, TimeSpan.FromSeconds(10), $"prediction {prediction} in the store");

    private static double Number(string cell) => double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<JsonNode> SurvivalOfAsync(HttpClient client, JsonObject customer, double tenure)
    {
        var body = customer.DeepClone().AsObject();
        body["features"]!["tenureMonths"] = tenure;
        var prediction = await (await client.PostAsync("/predict", Bodies.Json(body))).ReadObjectAsync();
        return prediction["survival"]!;
    }

    /// <summary>
    /// Registers the survival champion (once for the class) and returns a client for <paramref name="role"/> once the
    /// server serves it.
    /// </summary>
    private async Task<HttpClient> ClientServedSurvivalAsync(string role)
    {
        await RegisterSurvivalChampionAsync();
        var client = server.ClientFor(role);
        await PredictWithSurvivalAsync(client, Bodies.Customer(seed: 3));
        return client;
    }

    // Polls until the server has picked up the survival champion (it follows the alias on the champion poll interval).
    private static async Task<JsonObject> PredictWithSurvivalAsync(HttpClient client, JsonObject customer)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await client.PostAsync("/predict", Bodies.Json(customer.DeepClone()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var prediction = await response.ReadObjectAsync();
            if (prediction["survival"] is not null || attempt >= 60)
            {
                return prediction;
            }
            await Task.Delay(500);
        }
    }

    private static readonly SemaphoreSlim Registering = new(1, 1);
    private static int? registered;

    private async Task<int> RegisterSurvivalChampionAsync()
    {
        await Registering.WaitAsync();
        try
        {
            if (registered is { } done)
            {
                return done;
            }
            registered = await GeneratedSurvival.RegisterChampionAsync(server.Factory.Services, server.DataDir, GeneratedSurvival.Train(), "test");
            return registered.Value;
        }
        finally
        {
            Registering.Release();
        }
    }
}

/// <summary>The shared server never gets a survival champion, so its predictions show the field is absent without one.</summary>
[Collection(ServerCollection.Name)]
public sealed class NoSurvivalChampionTests(ServerFixture server)
{
    [Fact]
    public async Task WithoutASurvivalChampionPredictionsHaveNoSurvivalObject()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", Bodies.Json(Bodies.Customer()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = await response.ReadObjectAsync();
        Assert.InRange(prediction["churnProbability"]!.GetValue<double>(), 0, 1);
        Assert.False(prediction.ContainsKey("survival"));
    }

    [Fact]
    public async Task WithoutASurvivalChampionRealisedSurvivalPerformanceIsNotFound()
    {
        using var client = server.ClientFor("analyst");

        var response = await client.GetAsync("/monitoring/survival");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("No survival model is served.", (await response.ReadObjectAsync())["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithoutASurvivalChampionAScoredFileHasNoSurvivalColumns()
    {
        using var client = server.ClientFor("analyst");

        var started = await client.PostAsync("/jobs/score", new StringContent(Bodies.Csv(5, seed: 43), System.Text.Encoding.UTF8, "text/csv"));

        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        Assert.Equal("Succeeded", (await BackgroundJobs.FinishedAsync(client, id))["status"]!.GetValue<string>());
        var header = (await client.GetStringAsync($"/jobs/{id}/result")).Split('\n')[0];
        Assert.Equal("row,customerId,churnProbability,willChurn,riskTier,unseenCategories,error", header);
    }
}
