using System.Net.Http.Headers;

namespace Churn.Server.Tests;

/// <summary>What every JSON endpoint does with a field given twice, a byte-order mark, bare NaN tokens and bad text.</summary>
[Collection(ServerCollection.Name)]
public sealed class JsonBodyTests(ServerFixture server)
{
    private static string Features(int seed = 7) => Bodies.Customer(seed)["features"]!.ToJsonString();

    /// <summary>The features object with one more member spliced in as text, so a repeated name survives.</summary>
    private static string FeaturesWith(string member, int seed = 7) => Features(seed)[..^1] + "," + member + "}";

    private static string Split(params string[] extraColumns)
    {
        var features = Bodies.Customer()["features"]!.AsObject();
        var columns = string.Join(",", features.Select(f => $"\"{f.Key}\"").Concat(extraColumns.Select(c => $"\"{c}\"")));
        var row = string.Join(",", features.Select(f => f.Value?.ToJsonString() ?? "null").Concat(extraColumns.Select(_ => "\"South\"")));
        return "{\"dataframe_split\": {\"columns\": [" + columns + "], \"data\": [[" + row + "]]}}";
    }

    private static string Tensors(Func<string, JsonNode?, string?>? replace = null, string extra = "")
    {
        var tensors = Bodies.Customer()["features"]!.AsObject().Select(f =>
        {
            var datatype = f.Value is JsonValue v && v.TryGetValue<string>(out _) ? "BYTES" : f.Value is JsonValue b && b.TryGetValue<bool>(out _) ? "BOOL" : "FP64";
            return replace?.Invoke(f.Key, f.Value)
                ?? "{\"name\": \"" + f.Key + "\", \"shape\": [1], \"datatype\": \"" + datatype + "\", \"data\": [" + (f.Value?.ToJsonString() ?? "null") + "]}";
        });
        return "{\"inputs\": [" + string.Join(",", tensors) + extra + "]}";
    }

    public static TheoryData<string, string, string, string> RepeatedFields() => new()
    {
        { "POST", "/predict", $$"""{"customerId": "D-1", "features": {{FeaturesWith("\"region\": \"South\"")}}}""", "features.region" },
        { "POST", "/predict", $$"""{"customerId": "D-1", "customerId": "D-2", "features": {{Features()}}}""", "customerId" },
        { "POST", "/predict/batch", $$"""{"customers": [{"features": {{Features()}}}, {"features": {{FeaturesWith("\"tenureMonths\": 3", 8)}}}]}""", "customers[1].features.tenureMonths" },
        { "POST", "/invocations", $$"""{"dataframe_records": [{{Features()}}, {{FeaturesWith("\"region\": \"South\"")}}]}""", "dataframe_records[1].region" },
        { "POST", "/invocations", $$"""{"instances": [{{FeaturesWith("\"contract\": \"Two year\"")}}]}""", "instances[0].contract" },
        { "POST", "/invocations", Split("region"), "dataframe_split.columns[16]" },
        { "POST", "/invocations", """{"inputs": {"region": ["North"], "region": ["South"]}}""", "inputs.region" },
        { "POST", "/invocations", $$"""{"dataframe_records": [{{Features()}}], "dataframe_records": []}""", "dataframe_records" },
        { "POST", "/v2/models/churn/infer", Tensors(extra: """, {"name": "region", "shape": [1], "datatype": "BYTES", "data": ["South"]}"""), "inputs[16]" },
        { "POST", "/v2/models/churn/infer", Tensors((name, value) => name == "tenureMonths" ? """{"name": "tenureMonths", "shape": [1], "datatype": "FP64", "data": [5], "data": [6]}""" : null), "inputs[0].data" },
        { "POST", "/feedback", """{"customerId": "C-1", "churned": true, "churned": false}""", "churned" },
        { "PUT", "/config", """{"api": {"rate_limit": 1000000, "rate_limit": 5}}""", "api.rate_limit" },
        { "POST", "/keys", """{"name": "twice", "name": "again", "role": "viewer"}""", "name" },
        { "POST", "/retrain", """{"seed": 1, "seed": 2}""", "seed" },
        { "POST", "/models/rollback", """{"reason": "a", "reason": "b"}""", "reason" },
        { "POST", "/models/1/promote", """{"reason": "a", "reason": "b"}""", "reason" },
    };

    [Theory]
    [MemberData(nameof(RepeatedFields))]
    public async Task AFieldGivenTwiceInOneObjectIsRefusedWith422NamingItOnEveryJsonEndpoint(string method, string path, string body, string field)
    {
        using var admin = server.ClientFor("admin");
        var config = await admin.GetStringAsync("/config");

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Bodies.Json(body) });

        response.AssertProblem(HttpStatusCode.UnprocessableEntity);
        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, field);
        Assert.Equal(config, await admin.GetStringAsync("/config"));
    }

    [Fact]
    public async Task AFieldNamedTwiceWithDifferentEscapesIsStillTheSameField()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", Bodies.Json($$"""{"features": {{FeaturesWith("\"regio\\u006e\": \"South\"")}}}"""));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "features.region");
    }

    public static TheoryData<string, string, string, string> NonFiniteTokens() => new()
    {
        { "/predict", $$"""{"features": {{Features().Replace("\"monthlyUsageGb\":", "\"monthlyUsageGb\": NaN, \"x\":", StringComparison.Ordinal)}}}""", "NaN", "features.monthlyUsageGb" },
        { "/predict", $$"""{"features": {{FeaturesWith("\"y\": Infinity")}}}""", "Infinity", "features.y" },
        { "/predict/batch", $$"""{"customers": [{"features": {{Features()}}}, {"customerValue": -Infinity}]}""", "-Infinity", "customers[1].customerValue" },
        { "/v2/models/churn/infer", """{"inputs": [{"name": "tenureMonths", "shape": [2], "datatype": "FP64", "data": [1, NaN]}]}""", "NaN", "inputs[0].data[1]" },
        { "/feedback", """{"customerId": NaN, "churned": true}""", "NaN", "customerId" },
    };

    [Theory]
    [MemberData(nameof(NonFiniteTokens))]
    public async Task ABareNaNOrInfinityOnANativeEndpointIsA400NamingTheFieldAndSayingToSendNull(string path, string body, string token, string field)
    {
        using var client = server.ClientFor("admin");

        var response = await client.PostAsync(path, Bodies.Json(body));

        var errors = await response.AssertFieldErrorAsync(HttpStatusCode.BadRequest, field);
        var message = errors[field]![0]!.GetValue<string>();
        Assert.Contains(token, message, StringComparison.Ordinal);
        Assert.Contains("send null", message, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePosition", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherMalformedJsonNamesThePlaceItBreaks()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", Bodies.Json("{\"features\": " + Features()[..^1] + ", \"z\": 'five'}}"));

        await response.AssertFieldErrorAsync(HttpStatusCode.BadRequest, "features.z");
    }

    public static TheoryData<string, string, string, HttpStatusCode> BodiesOfEveryJsonEndpoint() => new()
    {
        { "POST", "/predict", Bodies.Customer().ToJsonString(), HttpStatusCode.OK },
        { "POST", "/predict/batch", new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(2)]) }.ToJsonString(), HttpStatusCode.OK },
        { "POST", "/invocations", $$"""{"dataframe_records": [{{Features()}}]}""", HttpStatusCode.OK },
        { "POST", "/v2/models/churn/infer", Tensors(), HttpStatusCode.OK },
        { "POST", "/feedback", """{"customerId": "BOM-1", "churned": false}""", HttpStatusCode.Created },
        { "PUT", "/config", """{"api": {"rate_limit": 1000000}}""", HttpStatusCode.OK },
        { "POST", "/keys", $$"""{"name": "bom-{{Guid.NewGuid():N}}", "role": "viewer"}""", HttpStatusCode.Created },
    };

    [Theory]
    [MemberData(nameof(BodiesOfEveryJsonEndpoint))]
    public async Task AUtf8ByteOrderMarkBeforeAJsonBodyIsIgnored(string method, string path, string body, HttpStatusCode expected)
    {
        using var admin = server.ClientFor("admin");
        var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(body)]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = content });

        Assert.True(expected == response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AByteOrderMarkScoresTheSameAsNone()
    {
        using var client = server.ClientFor("service");
        var body = Encoding.UTF8.GetBytes(Bodies.Customer(12).ToJsonString());
        var withMark = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. body]);
        withMark.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var marked = await (await client.PostAsync("/predict", withMark)).ReadObjectAsync();
        var plain = await (await client.PostAsync("/predict", Bodies.Json(Bodies.Customer(12)))).ReadObjectAsync();

        Assert.Equal(plain["churnProbability"]!.GetValue<double>(), marked["churnProbability"]!.GetValue<double>());
    }

    /// <summary>A body sent without a declared length (chunked), in pieces of <paramref name="piece"/> bytes.</summary>
    private sealed class UndeclaredLength(byte[] body, int piece) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < body.Length; at += piece)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Theory]
    [InlineData(1, 7, 0)]
    [InlineData(1, 4096, 0)]
    [InlineData(60, 1000, 0)]
    [InlineData(60, 9000, 0)]
    [InlineData(60, 9000, 100_000)]
    public async Task ABodyScoresTheSameWithADeclaredLengthAsSentInPiecesWithout(int customers, int piece, int padding)
    {
        using var client = server.ClientFor("service");
        // Padding (white space before the document) takes a body past the large-object size, 85,000 bytes.
        var json = new string(' ', padding) + new JsonObject { ["customers"] = new JsonArray([.. Enumerable.Range(0, customers).Select(i => (JsonNode)Bodies.Customer(100 + i))]) }.ToJsonString();
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.True(customers == 1 || bytes.Length > 16 * 1024, $"the large case must span several reads ({bytes.Length} bytes)");
        var undeclared = new UndeclaredLength(bytes, piece);
        undeclared.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var declared = await client.PostAsync("/predict/batch", new StringContent(json, Encoding.UTF8, "application/json"));
        var pieces = await client.PostAsync("/predict/batch", undeclared);

        Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pieces.StatusCode);
        Assert.NotNull(declared.Content.Headers.ContentLength);
        var expected = (await declared.ReadObjectAsync())["predictions"]!.AsArray().Select(p => p!["churnProbability"]!.GetValue<double>()).ToList();
        var actual = (await pieces.ReadObjectAsync())["predictions"]!.AsArray().Select(p => p!["churnProbability"]!.GetValue<double>()).ToList();
        Assert.Equal(customers, actual.Count);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task TextAfterTheDocumentIsA400()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", new StringContent(Bodies.Customer().ToJsonString() + " {\"again\": 1}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    public static TheoryData<string, string> InvalidUtf8() => new()
    {
        { "/predict", "features.region" },
        { "/invocations", "dataframe_records[0].region" },
        { "/v2/models/churn/infer", "inputs[15].data[0]" },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task InvalidUtf8InAStringIsA400NamingTheField(string path, string field)
    {
        using var client = server.ClientFor("service");
        var text = path switch
        {
            "/predict" => $$"""{"features": {{Features()}}}""",
            "/invocations" => $$"""{"dataframe_records": [{{Features()}}]}""",
            _ => Tensors(),
        };
        var at = text.LastIndexOf("\"region\"", StringComparison.Ordinal);
        // The opening quote of the region value: the first after the colon, or after "data" in a tensor.
        var valueStart = path.StartsWith("/v2", StringComparison.Ordinal) ? text.IndexOf("\"data\"", at, StringComparison.Ordinal) + 6 : text.IndexOf(':', at);
        var quote = text.IndexOf('"', valueStart);
        var bytes = Encoding.UTF8.GetBytes(text[..(quote + 1)]).Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes(text[(quote + 1)..])).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await client.PostAsync(path, content);

        await response.AssertFieldErrorAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task AUtf16BodyIsRefusedSayingToSendUtf8()
    {
        using var client = server.ClientFor("service");
        var content = new ByteArrayContent([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(Bodies.Customer().ToJsonString())]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await client.PostAsync("/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("UTF-8", (await response.ReadObjectAsync())["errors"]!["$"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
