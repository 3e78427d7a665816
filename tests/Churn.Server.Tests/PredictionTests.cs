using Churn.Data.Store;
using Churn.Server.Predictions;
using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class PredictionTests(ServerFixture server) : RoleClientTests(server)
{
    [Fact]
    public async Task FeaturesScoreTheSameInAnyOrderAndAStrayOrRepeatedOneIsNamedWherePutInTheOrder()
    {
        var inOrder = Bodies.Customer(21);
        var features = inOrder["features"]!.AsObject().Select(f => (f.Key, Value: f.Value?.DeepClone())).ToList();
        JsonObject With(IEnumerable<(string Key, JsonNode? Value)> fields) =>
            new() { ["customerId"] = "ORDER-1", ["features"] = new JsonObject(fields.Select(f => KeyValuePair.Create(f.Key, f.Value?.DeepClone()))) };
        // Reversed; and in order but for the first two swapped, with an unknown field and a repeat of the third in between.
        var reversed = With(Enumerable.Reverse(features));
        var stray = With([features[1], features[0], ("loyaltyTier", JsonValue.Create("gold")), features[2], features[2] with { Key = features[2].Key + " " }, .. features.Skip(3)]);

        var expected = (await (await Service.PostAsync("/predict", Bodies.Json(inOrder))).ReadObjectAsync())["churnProbability"]!.GetValue<double>();
        var fromReversed = await Service.PostAsync("/predict", Bodies.Json(reversed));
        var fromStray = await (await Service.PostAsync("/predict", Bodies.Json(stray))).ReadObjectAsync();

        Assert.Equal(HttpStatusCode.OK, fromReversed.StatusCode);
        Assert.Equal(expected, (await fromReversed.ReadObjectAsync())["churnProbability"]!.GetValue<double>());
        var errors = fromStray["errors"]!.AsObject();
        Assert.Equal(["features.loyaltyTier", $"features.{features[2].Key} "], errors.Select(e => e.Key).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task PredictingOneCustomerReturnsProbabilityDecisionTierReasonsAndValueAtRisk()
    {
        var body = Bodies.Customer();
        body["customerValue"] = 1000;

        var response = await Service.PostAsync("/predict", Bodies.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = await response.ReadObjectAsync();
        var p = prediction["churnProbability"]!.GetValue<double>();
        Assert.InRange(p, 0, 1);
        Assert.Equal(p >= prediction["threshold"]!.GetValue<double>(), prediction["willChurn"]!.GetValue<bool>());
        Assert.Contains(prediction["riskTier"]!.GetValue<string>(), new[] { "low", "medium", "high" });
        Assert.Equal(Math.Round(p * 1000, 2), prediction["valueAtRisk"]!.GetValue<double>(), 1e-6);
        Assert.Equal(body["customerId"]!.GetValue<string>(), prediction["customerId"]!.GetValue<string>());
        Assert.True(Guid.TryParse(prediction["predictionId"]!.GetValue<string>(), out _));
        Assert.True(prediction["modelVersion"]!.GetValue<int>() >= 1);
        var reasons = prediction["reasons"]!.AsArray();
        Assert.InRange(reasons.Count, 1, 5);
        Assert.All(reasons, r => Assert.NotNull(r!["feature"]));
        Assert.Empty(prediction["unseenCategories"]!.AsArray());
    }

    [Fact]
    public async Task PredictionsCarryABaseValueAndUnitAndExplainAllGivesEveryFeatureSummingToTheLogOdds()
    {
        var body = Bodies.Customer(7);

        var top = await (await Service.PostAsync("/predict", Bodies.Json(body))).ReadObjectAsync();
        var response = await Service.PostAsync("/predict?explain=all", Bodies.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var all = await response.ReadObjectAsync();
        Assert.Equal("log-odds", top["contributionUnit"]!.GetValue<string>());
        Assert.Equal(top["baseValue"]!.GetValue<double>(), all["baseValue"]!.GetValue<double>());
        var reasons = all["reasons"]!.AsArray();
        var features = body["features"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(features, reasons.Select(r => r!["feature"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        // SHAP's local accuracy: the base value plus every contribution is the prediction's log-odds.
        var p = all["churnProbability"]!.GetValue<double>();
        var sum = all["baseValue"]!.GetValue<double>() + reasons.Sum(r => r!["contribution"]!.GetValue<double>());
        Assert.Equal(Math.Log(p / (1 - p)), sum, 1e-9);
        // The default five are the five largest of them by magnitude.
        var largest = reasons.Select(r => Math.Abs(r!["contribution"]!.GetValue<double>())).OrderDescending().Take(5);
        Assert.Equal(largest, top["reasons"]!.AsArray().Select(r => Math.Abs(r!["contribution"]!.GetValue<double>())));
    }

    [Fact]
    public async Task ExplainAllWorksOnBatchesAndAnUnknownExplainValueIsAProblemNamingIt()
    {

        var batch = await (await Service.PostAsync("/predict/batch?explain=all", Bodies.Json(new JsonObject { ["customers"] = new JsonArray(Bodies.Customer(1), Bodies.Customer(2)) }))).ReadObjectAsync();
        var bad = await Service.PostAsync("/predict?explain=everything", Bodies.Json(Bodies.Customer(1)));

        Assert.All(batch["predictions"]!.AsArray(), p => Assert.Equal(Bodies.Customer(1)["features"]!.AsObject().Count, p!["reasons"]!.AsArray().Count));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Contains("explain", (await bad.ReadObjectAsync())["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task PredictingWithoutCustomerValueLeavesValueAtRiskNull()
    {

        var prediction = await (await Analyst.PostAsync("/predict", Bodies.Json(Bodies.Customer(3)))).ReadObjectAsync();

        Assert.Null(prediction["valueAtRisk"]);
    }

    [Fact]
    public async Task AnUnseenCategoryIsScoredAndFlagged()
    {
        var body = Bodies.Customer();
        body["features"]!["region"] = "Atlantis";

        var response = await Service.PostAsync("/predict", Bodies.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = await response.ReadObjectAsync();
        Assert.Equal(["region"], prediction["unseenCategories"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task NumbersSentAsTextAndNullsForUnknownValuesAreAccepted()
    {
        var body = Bodies.Customer();
        body["features"]!["tenureMonths"] = "12";
        body["features"]!["satisfactionScore"] = null;
        body["features"]!["partner"] = "yes";

        var response = await Service.PostAsync("/predict", Bodies.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(5)]
    // Enough customers to be scored on all cores at once.
    [InlineData(Predictor.ParallelFrom * 3 + 1)]
    public async Task ABatchReturnsOnePredictionPerCustomerInOrderWithTheSameProbabilitiesAndReasonsAsSinglePredictions(int count)
    {
        var customers = Bodies.Customers(count, seed: 11);

        var response = await Service.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers.Select(c => c.DeepClone())]) }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = (await response.ReadObjectAsync())["predictions"]!.AsArray();
        Assert.Equal(count, predictions.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(customers[i]["customerId"]!.GetValue<string>(), predictions[i]!["customerId"]!.GetValue<string>());
            var single = await (await Service.PostAsync("/predict", Bodies.Json(customers[i].DeepClone()))).ReadObjectAsync();
            Assert.Equal(single["churnProbability"]!.GetValue<double>(), predictions[i]!["churnProbability"]!.GetValue<double>());
            Assert.Equal(single["reasons"]!.ToJsonString(), predictions[i]!["reasons"]!.ToJsonString());
        }
        // Each logged entry carries its own customer, whichever thread scored it.
        var ids = predictions.Select(p => Guid.Parse(p!["predictionId"]!.GetValue<string>())).ToList();
        await Wait.UntilAsync(async () =>
        {
            await using var db = Server.Factory.Store.CreateDbContext();
            var logged = await db.PredictionLog.Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.CustomerId);
            return logged.Count == count && ids.Select((id, i) => logged[id] == customers[i]["customerId"]!.GetValue<string>()).All(same => same);
        }, TimeSpan.FromSeconds(30), "every prediction of the batch logged with its own customer");
    }

    /// <summary>
    /// Prediction ids are version 7 UUIDs (RFC 9562) carrying the time of their request in their first 48 bits, and stay
    /// distinct across more ids than one block of random bytes holds on every core.
    /// </summary>
    [Fact]
    public async Task PredictionIdsAreDistinctVersion7UuidsCarryingTheirRequestsMillisecond()
    {
        var batches = 2 * Environment.ProcessorCount * PredictionIds.IdsPerBlock / 100 + 1;
        var ids = new List<Guid>();
        for (var b = 0; b < batches; b++)
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var body = Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(100, seed: 40 + b)]) });
            var predictions = (await (await Service.PostAsync("/predict/batch", body)).ReadObjectAsync())["predictions"]!.AsArray();
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var prediction in predictions)
            {
                var id = Guid.Parse(prediction!["predictionId"]!.GetValue<string>());
                var milliseconds = Convert.ToInt64(id.ToString("N")[..12], 16);
                Assert.Equal(7, id.Version);
                Assert.Equal(0b10, id.Variant >> 2);
                Assert.InRange(milliseconds, before, after);
                ids.Add(id);
            }
        }

        Assert.Equal(batches * 100, ids.Distinct().Count());
    }

    [Fact]
    public void AnIdKeepsTheMillisecondItIsGivenAndRefusesATimeBeforeTheEpoch()
    {
        var time = new DateTimeOffset(2026, 12, 2, 2, 40, 1, 234, TimeSpan.FromHours(1)).AddTicks(5678);

        var ids = Enumerable.Range(0, 3 * PredictionIds.IdsPerBlock).Select(_ => PredictionIds.Next(time)).ToList();

        Assert.All(ids, id => Assert.Equal(time.ToUnixTimeMilliseconds(), Convert.ToInt64(id.ToString("N")[..12], 16)));
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => PredictionIds.Next(DateTimeOffset.UnixEpoch.AddMilliseconds(-1)));
    }

    [Fact]
    public async Task FeedbackByPredictionIdIsStoredAndJoinedToThatPrediction()
    {
        var prediction = await (await Service.PostAsync("/predict", Bodies.Json(Bodies.Customer(21)))).ReadObjectAsync();
        var id = prediction["predictionId"]!.GetValue<string>();

        var response = await Service.PostAsJsonAsync("/feedback", new { predictionId = id, churned = true, observedAt = "2026-01-31T00:00:00Z" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var feedback = await response.ReadObjectAsync();
        Assert.Equal(id, feedback["predictionId"]!.GetValue<string>());
        Assert.True(feedback["churned"]!.GetValue<bool>());
    }

    [Fact]
    public async Task FeedbackByCustomerIdJoinsTheCustomersLatestLoggedPrediction()
    {
        var body = Bodies.Customer(22);
        var customerId = $"feedback-{Guid.NewGuid():N}";
        body["customerId"] = customerId;
        var prediction = await (await Service.PostAsync("/predict", Bodies.Json(body))).ReadObjectAsync();

        // The log is written off the request path; feedback joins once the prediction is stored.
        JsonObject feedback = null!;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            feedback = await (await Service.PostAsJsonAsync("/feedback", new { customerId, churned = false })).ReadObjectAsync();
            if (feedback["matchedPrediction"]!.GetValue<bool>())
            {
                break;
            }
            await Task.Delay(100);
        }

        Assert.True(feedback["matchedPrediction"]!.GetValue<bool>());
        Assert.Equal(prediction["predictionId"]!.GetValue<string>(), feedback["predictionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task FeedbackWithoutPredictionIdOrCustomerIdIsRefusedNamingTheField()
    {

        var response = await Service.PostAsJsonAsync("/feedback", new { churned = "maybe" });

        var errors = await response.ReadErrorsAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(errors.ContainsKey("churned"));
        Assert.True(errors.ContainsKey("predictionId"));
    }

    [Theory]
    [InlineData("""{"predictionId": "not-an-id", "churned": true}""", "predictionId", "must be a prediction id returned by /predict.")]
    [InlineData("""{"predictionId": 7, "churned": true}""", "predictionId", "must be a prediction id returned by /predict.")]
    [InlineData("""{"customerId": "c-1", "churned": true, "observedAt": "yesterday"}""", "observedAt", "must be an ISO 8601 time such as 2026-01-31T00:00:00Z.")]
    public async Task FeedbackWithAMalformedOptionalFieldIsRefusedNamingIt(string body, string field, string problem)
    {

        var response = await Service.PostAsync("/feedback", Bodies.Json(body));

        var errors = await response.ReadErrorsAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal([problem], errors[field]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task FeedbackTakesNullOptionalFieldsAsAbsent()
    {

        var response = await Service.PostAsync("/feedback", Bodies.Json("""{"predictionId": null, "customerId": "nobody-null-fields", "churned": false, "observedAt": null}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var feedback = await response.ReadObjectAsync();
        Assert.False(feedback["matchedPrediction"]!.GetValue<bool>());
        Assert.Equal("nobody-null-fields", feedback["customerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task FeedbackTakesACustomerIdAsLongAsTheStoreKeepsAndNoLonger()
    {
        var longest = new string('c', NameColumns.MaxLength);

        var tooLong = await Service.PostAsJsonAsync("/feedback", new { customerId = longest + "c", churned = true });
        var fits = await Service.PostAsJsonAsync("/feedback", new { customerId = longest, churned = true });

        var errors = await tooLong.ReadErrorsAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal([$"must be a string of 1 to {NameColumns.MaxLength} characters."], errors["customerId"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.Equal(longest, (await fits.ReadObjectAsync())["customerId"]!.GetValue<string>());
    }
}
