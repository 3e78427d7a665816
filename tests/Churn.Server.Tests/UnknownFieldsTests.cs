namespace Churn.Server.Tests;

/// <summary><c>api.unknown_fields</c>: unknown fields refused by default, or skipped and listed on every scoring path.</summary>
[Collection(ServerCollection.Name)]
public sealed class UnknownFieldsTests(ServerFixture server)
{
    private static JsonObject Features(int seed = 61) => Bodies.Customer(seed)["features"]!.AsObject();

    private static JsonObject WithExtra(JsonObject features)
    {
        var copy = features.DeepClone().AsObject();
        copy["shoeSize"] = 44;
        return copy;
    }

    private static JsonObject Tensors(JsonObject features, bool extra)
    {
        var inputs = new JsonArray([.. features.Select(f => (JsonNode)new JsonObject
        {
            ["name"] = f.Key,
            ["shape"] = new JsonArray(1),
            ["datatype"] = f.Value is JsonValue v && v.TryGetValue<string>(out _) ? "BYTES" : f.Value is JsonValue b && b.TryGetValue<bool>(out _) ? "BOOL" : "FP64",
            ["data"] = new JsonArray(f.Value?.DeepClone()),
        })]);
        if (extra)
        {
            inputs.Add(new JsonObject { ["name"] = "shoeSize", ["shape"] = new JsonArray(1), ["datatype"] = "FP64", ["data"] = new JsonArray(44) });
        }
        var request = new JsonObject { ["inputs"] = inputs };
        if (extra)
        {
            request["trace"] = "abc";
        }
        return request;
    }

    private static string Csv(bool extra)
    {
        var lines = Bodies.Csv(2, seed: 61).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.LastIndexOf(',')]);
        return string.Join('\n', lines.Select((line, i) => extra ? line + (i == 0 ? ",notes" : ",call back") : line));
    }

    /// <summary>The same request with and without unknown fields, and what each path names as unknown.</summary>
    public static TheoryData<string, string, string, string, string> Requests()
    {
        var features = Features();
        return new TheoryData<string, string, string, string, string>
        {
            { "/predict", new JsonObject { ["features"] = features.DeepClone() }.ToJsonString(), new JsonObject { ["features"] = WithExtra(features), ["source"] = "crm" }.ToJsonString(), "application/json", "features.shoeSize,source" },
            { "/predict/batch", new JsonObject { ["customers"] = new JsonArray(new JsonObject { ["features"] = features.DeepClone() }) }.ToJsonString(),
                new JsonObject { ["customers"] = new JsonArray(new JsonObject { ["features"] = WithExtra(features) }), ["page"] = 1 }.ToJsonString(), "application/json", "page,customers[0].features.shoeSize" },
            { "/invocations", new JsonObject { ["dataframe_records"] = new JsonArray(features.DeepClone()) }.ToJsonString(),
                new JsonObject { ["dataframe_records"] = new JsonArray(WithExtra(features)), ["version"] = 2 }.ToJsonString(), "application/json", "version,dataframe_records[0].shoeSize" },
            { "/invocations", new JsonObject { ["inputs"] = new JsonObject([.. features.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)new JsonArray(f.Value?.DeepClone())))]) }.ToJsonString(),
                new JsonObject { ["inputs"] = new JsonObject([.. WithExtra(features).Select(f => KeyValuePair.Create(f.Key, (JsonNode?)new JsonArray(f.Value?.DeepClone())))]) }.ToJsonString(), "application/json", "inputs.shoeSize" },
            { "/invocations", Csv(false), Csv(true), "text/csv", "columns.notes" },
            { "/v2/models/churn/infer", Tensors(features, false).ToJsonString(), Tensors(features, true).ToJsonString(), "application/json", "trace,inputs[16]" },
        };
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task UnknownFieldsAreRefusedByDefaultAndSkippedAndListedWhenIgnored(string path, string plain, string extra, string contentType, string unknown)
    {
        using var admin = server.ClientFor("admin");
        var names = unknown.Split(',');

        var refused = await admin.PostAsync(path, new StringContent(extra, Encoding.UTF8, contentType));
        var errors = await refused.ReadErrorsAsync(HttpStatusCode.UnprocessableEntity);
        Assert.All(names, n => Assert.True(errors.ContainsKey(n), errors.ToJsonString()));

        try
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/config", Bodies.Json("""{"api": {"unknown_fields": "ignore"}}"""))).StatusCode);

            var expected = await (await admin.PostAsync(path, new StringContent(plain, Encoding.UTF8, contentType))).ReadObjectAsync();
            var response = await admin.PostAsync(path, new StringContent(extra, Encoding.UTF8, contentType));
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            var result = JsonNode.Parse(text)!.AsObject();
            var ignored = (path.StartsWith("/v2", StringComparison.Ordinal) ? result["parameters"]!["ignored_fields"] : result["ignoredFields"])!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            Assert.Equal(names.Order(StringComparer.Ordinal), ignored.Order(StringComparer.Ordinal));
            Assert.Equal(Probabilities(expected), Probabilities(result));
            Assert.Null(expected["ignoredFields"]);
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"api": {"unknown_fields": "reject"}}"""));
        }
    }

    private static List<double> Probabilities(JsonObject result) =>
        result["predictions"] is JsonArray predictions
            ? [.. predictions.Select(p => p is JsonObject o ? o["churnProbability"]!.GetValue<double>() : p!.GetValue<double>())]
            : result["outputs"] is JsonArray outputs
                ? [.. outputs.Single(o => (string?)o!["name"] == "churn_probability")!["data"]!.AsArray().Select(p => p!.GetValue<double>())]
                : [result["churnProbability"]!.GetValue<double>()];

    [Fact]
    public async Task IgnoringUnknownFieldsStillRefusesMissingAndRepeatedOnes()
    {
        using var admin = server.ClientFor("admin");
        try
        {
            await admin.PutAsync("/config", Bodies.Json("""{"api": {"unknown_fields": "ignore"}}"""));
            var lacking = Features();
            lacking.Remove("region");

            var missing = await admin.PostAsync("/predict", Bodies.Json(new JsonObject { ["features"] = WithExtra(lacking) }));
            var repeated = await admin.PostAsync("/predict", Bodies.Json("{\"features\": " + Features().ToJsonString()[..^1] + ",\"region\":\"South\"}}"));

            await missing.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "features.region");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, repeated.StatusCode);
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"api": {"unknown_fields": "reject"}}"""));
        }
    }

    [Theory]
    [InlineData("\"maybe\"")]
    [InlineData("\"IGNORE\"")]
    [InlineData("1")]
    [InlineData("null")]
    public async Task AnUnknownFieldsValueOtherThanRejectOrIgnoreIsRefused(string value)
    {
        using var admin = server.ClientFor("admin");

        var response = await admin.PutAsync("/config", Bodies.Json("{\"api\": {\"unknown_fields\": " + value + "}}"));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "api.unknown_fields");
        Assert.Equal("reject", JsonNode.Parse(await admin.GetStringAsync("/config"))!["api"]!["unknown_fields"]!.GetValue<string>());
    }
}
