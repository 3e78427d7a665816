namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class InteropTests(ServerFixture server)
{
    private const int Rows = 6;

    private async Task<double[]> PredictEachAsync(HttpClient client, List<JsonObject> customers)
    {
        var probabilities = new double[customers.Count];
        for (var i = 0; i < customers.Count; i++)
        {
            probabilities[i] = (await (await client.PostAsync("/predict", Bodies.Json(customers[i].DeepClone()))).ReadObjectAsync())["churnProbability"]!.GetValue<double>();
        }
        return probabilities;
    }

    /// <summary>Posts <paramref name="body"/> to /invocations and asserts it answers what /predict gives each customer.</summary>
    private async Task AssertSameAsPredictAsync(HttpClient client, List<JsonObject> customers, HttpContent body)
    {
        var response = await client.PostAsync("/invocations", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(await PredictEachAsync(client, customers), Predictions(await response.ReadObjectAsync()));
    }

    private static double[] Predictions(JsonObject response) => [.. response["predictions"]!.AsArray().Select(p => p!.GetValue<double>())];

    [Fact]
    public async Task InvocationsWithDataframeSplitGivesTheSameProbabilitiesAsPredict()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(Rows, seed: 31);
        var columns = CustomerGenerator.Schema.Features.Select(f => f.Name).ToList();
        var data = new JsonArray([.. customers.Select(c => new JsonArray([.. columns.Select(col => c["features"]![col]?.DeepClone())]))]);
        var body = new JsonObject { ["dataframe_split"] = new JsonObject { ["columns"] = new JsonArray([.. columns.Select(c => JsonValue.Create(c))]), ["data"] = data } };

        await AssertSameAsPredictAsync(client, customers, Bodies.Json(body));
    }

    [Fact]
    public async Task InvocationsWithDataframeRecordsGivesTheSameProbabilitiesAsPredict()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(Rows, seed: 32);
        var body = new JsonObject { ["dataframe_records"] = new JsonArray([.. customers.Select(c => c["features"]!.DeepClone())]) };

        await AssertSameAsPredictAsync(client, customers, Bodies.Json(body));
    }

    [Fact]
    public async Task InvocationsWithACsvBodyGivesTheSameProbabilitiesAsPredict()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(Rows, seed: 33);
        // The generated CSV has a label column, which a scoring request does not send.
        var csv = string.Join('\n', Bodies.Csv(Rows, seed: 33).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.LastIndexOf(',')]));

        await AssertSameAsPredictAsync(client, customers, new StringContent(csv, Encoding.UTF8, "text/csv"));
    }

    [Fact]
    public async Task InvocationsNamesABadCellByRowAndColumn()
    {
        using var client = server.ClientFor("service");
        var records = new JsonArray([.. Bodies.Customers(3).Select(c => c["features"]!.DeepClone())]);
        records[2]!["tenureMonths"] = "long";

        var response = await client.PostAsync("/invocations", Bodies.Json(new JsonObject { ["dataframe_records"] = records }));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "dataframe_records[2].tenureMonths");
    }

    [Fact]
    public async Task V2InferWithOneTensorPerColumnGivesTheSameProbabilitiesAsPredict()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(Rows, seed: 34);
        var inputs = new JsonArray();
        foreach (var feature in CustomerGenerator.Schema.Features)
        {
            var isText = feature.Kind == Core.Schema.FeatureKind.Categorical;
            inputs.Add(new JsonObject
            {
                ["name"] = feature.Name,
                ["shape"] = new JsonArray(Rows),
                ["datatype"] = isText ? "BYTES" : feature.Kind == Core.Schema.FeatureKind.Boolean ? "BOOL" : "FP64",
                ["data"] = new JsonArray([.. customers.Select(c => c["features"]![feature.Name]?.DeepClone())]),
            });
        }

        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(new JsonObject { ["id"] = "r1", ["inputs"] = inputs }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.ReadObjectAsync();
        Assert.Equal("r1", result["id"]!.GetValue<string>());
        var probabilities = result["outputs"]!.AsArray().Single(o => (string?)o!["name"] == "churn_probability")!["data"]!.AsArray().Select(p => p!.GetValue<double>());
        Assert.Equal(await PredictEachAsync(client, customers), probabilities);
    }

    [Fact]
    public async Task V2HealthMetadataAndReadinessDescribeTheServingModel()
    {
        using var client = server.ClientFor("viewer");

        Assert.True(JsonNode.Parse(await client.GetStringAsync("/v2/health/live"))!["live"]!.GetValue<bool>());
        Assert.True(JsonNode.Parse(await client.GetStringAsync("/v2/health/ready"))!["ready"]!.GetValue<bool>());
        Assert.True(JsonNode.Parse(await client.GetStringAsync("/v2/models/churn/ready"))!["ready"]!.GetValue<bool>());
        var metadata = JsonNode.Parse(await client.GetStringAsync("/v2/models/churn"))!;
        Assert.Equal(16, metadata["inputs"]!.AsArray().Count);
        Assert.Equal("BYTES", metadata["inputs"]!.AsArray().Single(i => (string?)i!["name"] == "contract")!["datatype"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/models/other")).StatusCode);
    }

    [Fact]
    public async Task MetricsExposePredictionsByModelVersionAndRequestLatency()
    {
        using var service = server.ClientFor("service");
        await service.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
        using var viewer = server.ClientFor("viewer");

        var metrics = await viewer.GetStringAsync("/metrics");

        Assert.Contains("churn_predictions_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("model_version=", metrics, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesThePredictEndpointWithAnExample()
    {
        using var client = server.Client();

        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;

        var predict = document["paths"]!["/predict"]!["post"]!;
        Assert.NotNull(predict["requestBody"]!["content"]!["application/json"]!["example"]);
        // The multi-row routes take turns (BatchGate): their description lists the 503 of a full queue.
        foreach (var path in new[] { "/predict/batch", "/invocations", "/v2/models/{name}/infer" })
        {
            Assert.NotNull(document["paths"]![path]!["post"]!["responses"]!["503"]);
        }
        Assert.Null(predict["responses"]!["503"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/scalar/v1")).StatusCode);
    }
}
