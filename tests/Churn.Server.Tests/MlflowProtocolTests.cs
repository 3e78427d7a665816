namespace Churn.Server.Tests;

/// <summary><c>POST /invocations</c> with every input shape of the MLflow 2.x scoring protocol, and Python's NaN tokens.</summary>
[Collection(ServerCollection.Name)]
public sealed class MlflowProtocolTests(ServerFixture server)
{
    private const int Rows = 4;

    private static List<JsonObject> Records(int seed) => [.. Bodies.Customers(Rows, seed).Select(c => c["features"]!.AsObject())];

    private static JsonObject Columns(List<JsonObject> records) =>
        new(records[0].Select(f => KeyValuePair.Create(f.Key, (JsonNode?)new JsonArray([.. records.Select(r => r[f.Key]?.DeepClone())]))));

    private async Task<double[]> InvokeAsync(HttpClient client, string body)
    {
        var response = await client.PostAsync("/invocations", Bodies.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return [.. JsonNode.Parse(text)!["predictions"]!.AsArray().Select(p => p!.GetValue<double>())];
    }

    public static TheoryData<string> Shapes() => ["instances-records", "instances-columns", "inputs-records", "inputs-columns", "split-with-index", "records-with-params"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task EveryMlflowInputShapeScoresTheSameAsDataframeRecords(string shape)
    {
        using var client = server.ClientFor("service");
        var records = Records(41);
        var expected = await InvokeAsync(client, new JsonObject { ["dataframe_records"] = new JsonArray([.. records.Select(r => r.DeepClone())]) }.ToJsonString());
        var names = records[0].Select(f => f.Key).ToList();
        JsonObject body = shape switch
        {
            "instances-records" => new() { ["instances"] = new JsonArray([.. records.Select(r => r.DeepClone())]) },
            "instances-columns" => new() { ["instances"] = Columns(records) },
            "inputs-records" => new() { ["inputs"] = new JsonArray([.. records.Select(r => r.DeepClone())]) },
            "inputs-columns" => new() { ["inputs"] = Columns(records) },
            "split-with-index" => new()
            {
                ["dataframe_split"] = new JsonObject
                {
                    ["index"] = new JsonArray([.. Enumerable.Range(10, Rows).Select(i => JsonValue.Create(i))]),
                    ["columns"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
                    ["data"] = new JsonArray([.. records.Select(r => new JsonArray([.. names.Select(n => r[n]?.DeepClone())]))]),
                },
            },
            _ => new() { ["dataframe_records"] = new JsonArray([.. records.Select(r => r.DeepClone())]), ["params"] = new JsonObject { ["threshold"] = 0.2 } },
        };

        Assert.Equal(expected, await InvokeAsync(client, body.ToJsonString()));
        Assert.Equal(Rows, expected.Length);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public async Task PythonsBareNonFiniteTokensAreMissingValuesOnInvocations(string token)
    {
        using var client = server.ClientFor("service");
        var records = Records(42);
        records[1]["monthlyUsageGb"] = null;
        records[2]["totalCharges"] = null;
        var withNull = new JsonObject { ["dataframe_records"] = new JsonArray([.. records.Select(r => r.DeepClone())]) }.ToJsonString();
        var names = records[0].Select(f => f.Key).ToList();
        var split = new JsonObject
        {
            ["dataframe_split"] = new JsonObject
            {
                ["columns"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
                ["data"] = new JsonArray([.. records.Select(r => new JsonArray([.. names.Select(n => r[n]?.DeepClone())]))]),
            },
        }.ToJsonString();

        var expected = await InvokeAsync(client, withNull);

        Assert.Equal(expected, await InvokeAsync(client, withNull.Replace("\"monthlyUsageGb\":null", "\"monthlyUsageGb\":" + token, StringComparison.Ordinal)
            .Replace("\"totalCharges\":null", "\"totalCharges\" : " + token, StringComparison.Ordinal)));
        Assert.Equal(expected, await InvokeAsync(client, split.Replace("null", token, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NaNInsideAStringIsLeftAlone()
    {
        using var client = server.ClientFor("service");
        var records = Records(43);
        records[0]["region"] = "NaN, Infinity";
        records[1]["contract"] = "[NaN]";
        var body = new JsonObject { ["dataframe_records"] = new JsonArray([.. records.Select(r => r.DeepClone())]) }.ToJsonString();

        var scored = await InvokeAsync(client, body);

        var one = await (await client.PostAsync("/predict", Bodies.Json(new JsonObject { ["features"] = records[0].DeepClone() }))).ReadObjectAsync();
        Assert.Equal(one["churnProbability"]!.GetValue<double>(), scored[0]);
    }

    [Fact]
    public async Task NaNAfterAnEscapedQuoteInsideAStringIsLeftAlone()
    {
        using var client = server.ClientFor("service");
        var features = Records(46)[0];
        features.Remove("region");
        // Written by hand so the string holds a backslash-escaped quote followed by the tokens.
        var raw = features.ToJsonString()[..^1] + ",\"region\":\"say \\\" NaN, -Infinity \\\\\"}";

        var scored = await InvokeAsync(client, "{\"dataframe_records\": [" + raw + "]}");
        var response = await client.PostAsync("/predict", Bodies.Json("{\"features\": " + raw + "}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((await response.ReadObjectAsync())["churnProbability"]!.GetValue<double>(), scored[0]);
    }

    public static TheoryData<string, string> BadBodies()
    {
        var records = Records(44);
        var names = records[0].Select(f => f.Key).ToList();
        var columns = Columns(records);
        var shortColumn = Columns(records);
        shortColumn["tenureMonths"]!.AsArray().RemoveAt(0);
        var lacking = Columns(records);
        lacking.Remove("region");
        var extra = Columns(records);
        extra["shoeSize"] = new JsonArray(1, 2, 3, 4);
        return new TheoryData<string, string>
        {
            { new JsonObject { ["dataframe_records"] = new JsonArray(records[0].DeepClone()), ["instances"] = new JsonArray(records[0].DeepClone()) }.ToJsonString(), "instances" },
            { new JsonObject { ["inputs"] = columns.DeepClone(), ["extra"] = 1 }.ToJsonString(), "extra" },
            { new JsonObject { ["inputs"] = shortColumn }.ToJsonString(), "inputs.tenureMonths" },
            { new JsonObject { ["inputs"] = lacking }.ToJsonString(), "inputs" },
            { new JsonObject { ["instances"] = extra }.ToJsonString(), "instances.shoeSize" },
            { new JsonObject { ["inputs"] = "all of them" }.ToJsonString(), "inputs" },
            { new JsonObject { ["instances"] = new JsonArray(new JsonArray(1, 2)) }.ToJsonString(), "instances[0]" },
            { new JsonObject { ["dataframe_records"] = new JsonArray(records[0].DeepClone()), ["params"] = "fast" }.ToJsonString(), "params" },
            { new JsonObject { ["dataframe_split"] = new JsonObject { ["columns"] = new JsonArray([.. names.Where(n => n != "region").Select(n => JsonValue.Create(n))]), ["data"] = new JsonArray() } }.ToJsonString(), "dataframe_split.columns" },
            { new JsonObject { ["dataframe_split"] = new JsonObject { ["columns"] = new JsonArray([.. names.Select(n => JsonValue.Create(n)), JsonValue.Create("shoeSize")]), ["data"] = new JsonArray() } }.ToJsonString(), "dataframe_split.columns[16]" },
            { new JsonObject { ["dataframe_split"] = new JsonObject { ["columns"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]), ["data"] = new JsonArray(new JsonArray(1)) } }.ToJsonString(), "dataframe_split.data[0]" },
            { "{}", "$" },
        };
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task AMalformedMlflowBodyIsA422NamingTheFieldOnce(string body, string field)
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/invocations", Bodies.Json(body));

        var errors = await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, field);
        Assert.True(errors.Count <= 2, errors.ToJsonString());
    }

    [Fact]
    public async Task ACsvBodyWithAByteOrderMarkScoresLikeOneWithout()
    {
        using var client = server.ClientFor("service");
        var csv = string.Join('\n', Bodies.Csv(3, seed: 45).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.LastIndexOf(',')]));
        var marked = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(csv)]);
        marked.Headers.ContentType = new("text/csv");

        var plain = await (await client.PostAsync("/invocations", new StringContent(csv, Encoding.UTF8, "text/csv"))).ReadObjectAsync();
        var response = await client.PostAsync("/invocations", marked);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(plain.ToJsonString(), (await response.ReadObjectAsync()).ToJsonString());
    }

    [Fact]
    public async Task ACsvBodyThatIsNotUtf8IsA400()
    {
        using var client = server.ClientFor("service");
        var csv = Encoding.UTF8.GetBytes(string.Join(',', Bodies.Header.Skip(1).SkipLast(1)) + "\n");
        var content = new ByteArrayContent([.. csv, 0xC3, 0x28, 0xFF]);
        content.Headers.ContentType = new("text/csv");

        var response = await client.PostAsync("/invocations", content);

        await response.AssertFieldErrorAsync(HttpStatusCode.BadRequest, "$");
    }

    [Fact]
    public async Task NoRecordsAreRefusedNamingTheData()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/invocations", Bodies.Json("""{"dataframe_records": []}"""));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "data");
    }

    [Fact]
    public async Task MoreRowsThanTheBatchLimitAreRefusedWith413NamingTheData()
    {
        using var client = server.ClientFor("service");
        var records = Bodies.Customers(101, seed: 43).Select(c => c["features"]!.DeepClone());

        var response = await client.PostAsync("/invocations", Bodies.Json(new JsonObject { ["dataframe_records"] = new JsonArray([.. records]) }));

        await response.AssertFieldErrorAsync(HttpStatusCode.RequestEntityTooLarge, "data");
    }
}
