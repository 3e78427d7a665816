namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ValidationTests(ServerFixture server)
{
    public static TheoryData<string, string, int, string> BadPredictions()
    {
        static string With(Action<JsonObject> change)
        {
            var body = Bodies.Customer();
            change(body);
            return body.ToJsonString();
        }
        return new TheoryData<string, string, int, string>
        {
            { "a missing feature", With(b => b["features"]!.AsObject().Remove("tenureMonths")), 422, "features.tenureMonths" },
            { "an unknown feature", With(b => b["features"]!["shoeSize"] = 44), 422, "features.shoeSize" },
            { "text for a number", With(b => b["features"]!["monthlyCharges"] = "lots"), 422, "features.monthlyCharges" },
            { "-Infinity as text", With(b => b["features"]!["monthlyCharges"] = "-Infinity"), 422, "features.monthlyCharges" },
            { "Infinity as text", With(b => b["features"]!["totalCharges"] = "Infinity"), 422, "features.totalCharges" },
            { "a number too large for a double", With(b => b["features"]!["tenureMonths"] = JsonNode.Parse("1e400")), 422, "features.tenureMonths" },
            { "an object for a number", With(b => b["features"]!["tenureMonths"] = new JsonObject()), 422, "features.tenureMonths" },
            { "an array for a category", With(b => b["features"]!["contract"] = new JsonArray()), 422, "features.contract" },
            { "a word that is not yes or no", With(b => b["features"]!["partner"] = "maybe"), 422, "features.partner" },
            { "a boolean for a category", With(b => b["features"]!["region"] = true), 422, "features.region" },
            { "a negative customer value", With(b => b["customerValue"] = -5), 422, "customerValue" },
            { "an unknown top-level field", With(b => b["extra"] = 1), 422, "extra" },
            { "features that are not an object", With(b => b["features"] = "none"), 422, "features" },
            { "no features", With(b => b.Remove("features")), 422, "features" },
            { "a body that is not an object", "[1, 2]", 422, "$" },
        };
    }

    [Theory]
    [MemberData(nameof(BadPredictions))]
    public async Task APredictionWithABadFieldIsRefusedWithProblemDetailsNamingTheField(string problem, string body, int status, string field)
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", Bodies.Json(body));

        Assert.True(status == (int)response.StatusCode, $"{problem}: got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.ReadObjectAsync())["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"{problem}: errors were {errors.ToJsonString()}");
    }

    [Theory]
    [InlineData("""{"rows": 499}""", "rows", "must be a whole number from 500 to 2000000.")]
    [InlineData("""{"rows": 1000.5}""", "rows", "must be a whole number from 500 to 2000000.")]
    [InlineData("""{"rows": "1000"}""", "rows", "must be a whole number from 500 to 2000000.")]
    [InlineData("""{"drift": 1.5}""", "drift", "must be a number from 0 to 1.")]
    [InlineData("""{"drift": null}""", "drift", "must be a number from 0 to 1.")]
    [InlineData("""{"seed": 1.5}""", "seed", "must be a whole number.")]
    public async Task ARetrainingWithABadFieldIsRefusedNamingTheFieldAndItsBounds(string body, string field, string problem)
    {
        using var admin = server.ClientFor("admin");

        var response = await admin.PostAsync("/retrain", Bodies.Json(body));

        var errors = await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, field);
        Assert.Equal(problem, errors[field]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task ABadFieldInABatchIsNamedWithItsIndex()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(5);
        customers[3]["features"]!["tenureMonths"] = "soon";

        var response = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));

        var errors = await response.ReadErrorsAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["customers[3].features.tenureMonths"], errors.Select(e => e.Key));
    }

    [Fact]
    public async Task AnEmptyBatchIsRefusedWith422()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict/batch", Bodies.Json("""{"customers": []}"""));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "customers");
    }

    [Fact]
    public async Task ABatchOverTheLimitIsRefusedWith413()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(101);

        var response = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));

        await response.AssertFieldErrorAsync(HttpStatusCode.RequestEntityTooLarge, "customers");
    }

    [Fact]
    public async Task ABodyOverTheSizeLimitIsRefusedWith413()
    {
        using var client = server.ClientFor("service");
        var body = Bodies.Customer();
        body["customerId"] = new string('x', 2 * 1024 * 1024);

        var response = await client.PostAsync("/predict", Bodies.Json(body));

        response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task AWrongContentTypeIsRefusedWith415()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", new StringContent(Bodies.Customer().ToJsonString(), Encoding.UTF8, "text/plain"));

        response.AssertProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("{\"features\": ")]
    [InlineData("{\"features\": {\"tenureMonths\": NaN}}")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task MalformedJsonIsRefusedWith400(string body)
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/predict", Bodies.Json(body));

        response.AssertProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ThousandsOfMutatedRequestsNeverProduceAServerError()
    {
        using var client = server.ClientFor("service");
        var random = new Random(1234);
        var valid = Bodies.Customer().ToJsonString();
        var junk = new[] { "null", "true", "\"\"", "-1e308", "1e309", "[]", "{}", "\"NaN\"", "\"\\u0000\"", "0.0000001", "\"Yes\"", "99999999999999999999" };
        var failures = new List<string>();
        for (var i = 0; i < 1500; i++)
        {
            var text = valid;
            switch (random.Next(4))
            {
                case 0:
                    // Cut the body anywhere.
                    text = text[..random.Next(text.Length)];
                    break;
                case 1:
                    // Replace one value by junk.
                    var node = JsonNode.Parse(valid)!.AsObject();
                    var features = node["features"]!.AsObject();
                    var name = features.ElementAt(random.Next(features.Count)).Key;
                    features[name] = JsonNode.Parse(junk[random.Next(junk.Length)]);
                    text = node.ToJsonString();
                    break;
                case 2:
                    // Flip one character.
                    var chars = text.ToCharArray();
                    chars[random.Next(chars.Length)] = (char)random.Next(32, 127);
                    text = new string(chars);
                    break;
                default:
                    var batch = new JsonObject { ["customers"] = new JsonArray([.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => JsonNode.Parse(junk[random.Next(junk.Length)]))]) };
                    text = batch.ToJsonString();
                    break;
            }
            var path = random.Next(3) == 0 ? "/predict/batch" : "/predict";
            var response = await client.PostAsync(path, Bodies.Json(text));
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"{path} {text} -> {(int)response.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }
}
