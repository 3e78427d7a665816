using Churn.Core.Survival;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Survival;
using Churn.Data.Tracking;

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
        using var client = server.ClientFor("service");
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
        Assert.Equal(Math.Round(features["monthlyCharges"]!.GetValue<double>() * (12 - lifetime), 2), survival["revenueAtRisk"]!.GetValue<double>(), 1);
        var curve = survival["curve"]!.AsArray();
        Assert.NotEmpty(curve);
        Assert.True(curve.Select(p => p!["survival"]!.GetValue<double>()).Zip(curve.Skip(1).Select(p => p!["survival"]!.GetValue<double>())).All(p => p.First >= p.Second));
    }

    [Fact]
    public async Task ABatchGivesEachCustomerTheSameSurvivalAsASinglePredictionAndTenureConditionsIt()
    {
        using var client = server.ClientFor("service");
        await RegisterSurvivalChampionAsync();
        var customers = Bodies.Customers(3, seed: 21);
        await PredictWithSurvivalAsync(client, customers[0]);

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
    public async Task ConcurrentPredictionsGiveEachCustomerTheSameSurvival()
    {
        using var client = server.ClientFor("service");
        await RegisterSurvivalChampionAsync();
        var customers = Bodies.Customers(4, seed: 31);
        await PredictWithSurvivalAsync(client, customers[0]);
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

    private static async Task<JsonNode> SurvivalOfAsync(HttpClient client, JsonObject customer, double tenure)
    {
        var body = customer.DeepClone().AsObject();
        body["features"]!["tenureMonths"] = tenure;
        var prediction = await (await client.PostAsync("/predict", Bodies.Json(body))).ReadObjectAsync();
        return prediction["survival"]!;
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
            var file = Path.Combine(Path.GetTempPath(), $"churn-survival-{Guid.NewGuid():N}.csv");
            using (var writer = new StreamWriter(file))
            {
                new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = 3000, Seed = 5 }, writer);
            }
            var generated = CustomerGenerator.Schema;
            var schema = new SurvivalSchema
            {
                Data = generated with
                {
                    Features = [.. generated.Features.Where(f => f.Name is not ("tenureMonths" or "totalCharges"))],
                    Drop = ["totalCharges"],
                },
                DurationColumn = "tenureMonths",
                ValueColumn = "monthlyCharges",
            };
            var data = SurvivalData.Load(file, schema);
            var services = server.Factory.Services;
            var outcome = await RecordedTraining.RunAsync(services.GetRequiredService<RunTracker>(), services.GetRequiredService<ModelRegistry>(),
                services.GetRequiredService<ModelChanges>(), server.DataDir, SurvivalOptions.DefaultModelName, RunTrigger.User, new AuditActor("test", null), promote: true, new Dictionary<string, string>(), data.Covariates.Fingerprint,
                _ => SurvivalTrainer.Train(data, new SurvivalOptions()).Model, SurvivalRegistration.Packaging);
            File.Delete(file);
            registered = outcome.Version.Version;
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
}
