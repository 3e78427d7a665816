using Churn.Core.Schema;

namespace Churn.Server.Tests;

/// <summary>The Open Inference Protocol V2 as its specification reads: shapes, datatypes, outputs, parameters and health.</summary>
[Collection(ServerCollection.Name)]
public sealed class InferenceV2Tests(ServerFixture server)
{
    private const int Rows = 3;

    private static string Datatype(FeatureKind kind) => kind switch
    {
        FeatureKind.Categorical => "BYTES",
        FeatureKind.Boolean => "BOOL",
        _ => "FP64",
    };

    /// <summary>One tensor per feature for <see cref="Rows"/> generated customers.</summary>
    private static JsonObject Request(int seed = 51, int rows = Rows)
    {
        var customers = Bodies.Customers(rows, seed);
        var inputs = new JsonArray();
        foreach (var feature in CustomerGenerator.Schema.Features)
        {
            inputs.Add(new JsonObject
            {
                ["name"] = feature.Name,
                ["shape"] = new JsonArray(rows),
                ["datatype"] = Datatype(feature.Kind),
                ["data"] = new JsonArray([.. customers.Select(c => c["features"]![feature.Name]?.DeepClone())]),
            });
        }
        return new JsonObject { ["inputs"] = inputs };
    }

    private static JsonObject Tensor(JsonObject request, string name) =>
        request["inputs"]!.AsArray().Select(t => t!.AsObject()).Single(t => (string?)t["name"] == name);

    private static int IndexOf(string name) => CustomerGenerator.Schema.IndexOf(name);

    private async Task<double[]> ProbabilitiesAsync(HttpClient client, JsonObject request)
    {
        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(request));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return [.. JsonNode.Parse(text)!["outputs"]!.AsArray().Single(o => (string?)o!["name"] == "churn_probability")!["data"]!.AsArray().Select(p => p!.GetValue<double>())];
    }

    private async Task<JsonObject> RefusedAsync(HttpClient client, JsonObject request, string field)
    {
        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(request));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, text);
        var errors = JsonNode.Parse(text)!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), text);
        return errors;
    }

    public static TheoryData<string, string, string[]> Faults() => new()
    {
        // name of the case, the field named, words the message must hold
        { "shape smaller than data", "inputs[0]", ["tenureMonths", "[1]", "1 value", "3"] },
        { "shape larger than data", "inputs[0]", ["tenureMonths", "[5]", "5 values", "3"] },
        { "several values per row", "inputs[0]", ["tenureMonths", "3 values per row", "[n, 1]"] },
        { "nesting unlike the shape", "inputs[0]", ["tenureMonths", "nested"] },
        { "no shape", "inputs[0]", ["shape is required"] },
        { "negative shape", "inputs[0]", ["shape"] },
        { "no datatype", "inputs[0]", ["datatype"] },
        { "an unknown datatype", "inputs[0]", ["FLOAT"] },
        { "text in an FP64 tensor", "inputs[0]", ["FP64", "data[1]", "\"many\""] },
        { "a fraction in an INT64 tensor", "inputs[0]", ["INT64", "data[0]"] },
        { "a negative number in a UINT8 tensor", "inputs[0]", ["UINT8"] },
        { "numbers in a BYTES tensor", "inputs[1]", ["BYTES", "a string"] },
        { "BOOL for a numeric feature", "inputs[0]", ["BOOL", "numeric"] },
        { "FP64 for a categorical feature", "inputs[1]", ["FP64", "categorical"] },
        { "a tensor missing", "inputs", ["region"] },
        { "tensors of different lengths", "inputs", ["same number of rows"] },
        { "a parameters value that is not an object", "inputs[0].parameters", ["object"] },
        { "an unknown output", "outputs[0]", ["churn_probability", "shoe_size"] },
        { "an unknown tensor field", "inputs[0].colour", ["tensor"] },
        { "a value the parser refuses", "inputs[6].data[2]", ["yes/no"] },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task AMalformedTensorIsA422NamingTheTensorOnce(string fault, string field, string[] words)
    {
        using var client = server.ClientFor("service");
        var request = Request();
        var tenure = Tensor(request, "tenureMonths");
        var contract = Tensor(request, "contract");
        switch (fault)
        {
            case "shape smaller than data": tenure["shape"] = new JsonArray(1); break;
            case "shape larger than data": tenure["shape"] = new JsonArray(5); break;
            case "several values per row":
                tenure["shape"] = new JsonArray(Rows, 3);
                tenure["data"] = new JsonArray([.. Enumerable.Range(0, Rows * 3).Select(i => JsonValue.Create(i))]);
                break;
            case "nesting unlike the shape": tenure["data"] = new JsonArray(new JsonArray(1, 2), new JsonArray(3)); break;
            case "no shape": tenure.Remove("shape"); break;
            case "negative shape": tenure["shape"] = new JsonArray(-3); break;
            case "no datatype": tenure.Remove("datatype"); break;
            case "an unknown datatype": tenure["datatype"] = "FLOAT"; break;
            case "text in an FP64 tensor": tenure["data"]![1] = "many"; break;
            case "a fraction in an INT64 tensor": tenure["datatype"] = "INT64"; tenure["data"]![0] = 2.5; break;
            case "a negative number in a UINT8 tensor": tenure["datatype"] = "UINT8"; tenure["data"]![0] = -1; break;
            case "numbers in a BYTES tensor": contract["data"]![0] = 3; break;
            case "BOOL for a numeric feature": tenure["datatype"] = "BOOL"; tenure["data"] = new JsonArray(true, false, true); break;
            case "FP64 for a categorical feature": contract["datatype"] = "FP64"; contract["data"] = new JsonArray(1.0, 2.0, 3.0); break;
            case "a tensor missing": request["inputs"]!.AsArray().RemoveAt(IndexOf("region")); break;
            case "tensors of different lengths":
                contract["shape"] = new JsonArray(Rows - 1);
                contract["data"]!.AsArray().RemoveAt(0);
                break;
            case "a parameters value that is not an object": tenure["parameters"] = "fast"; break;
            case "an unknown output": request["outputs"] = new JsonArray(new JsonObject { ["name"] = "shoe_size" }); break;
            case "an unknown tensor field": tenure["colour"] = "blue"; break;
            default:
                var flag = request["inputs"]![6]!.AsObject();
                flag["datatype"] = "BYTES";
                flag["data"] = new JsonArray("yes", "no", "perhaps");
                break;
        }

        var errors = await RefusedAsync(client, request, field);

        var message = string.Join(" ", errors[field]!.AsArray().Select(m => m!.GetValue<string>()));
        foreach (var word in words)
        {
            Assert.Contains(word, message, StringComparison.Ordinal);
        }
        Assert.True(errors.Count <= 2, errors.ToJsonString());
    }

    [Fact]
    public async Task OneMatrixTensorGetsOneShortMessageNamingTheTensorsThisModelTakes()
    {
        using var client = server.ClientFor("service");
        var customers = Bodies.Customers(20, seed: 52);
        var rows = new JsonArray([.. customers.Select(c => new JsonArray([.. c["features"]!.AsObject().Select(f => JsonValue.Create(f.Value?.ToString()))]))]);
        var request = new JsonObject { ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input-0", ["shape"] = new JsonArray(20, 16), ["datatype"] = "BYTES", ["data"] = rows }) };

        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(request));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = JsonNode.Parse(text)!["errors"]!.AsObject();
        Assert.Single(errors);
        var message = errors["inputs"]![0]!.GetValue<string>();
        Assert.Contains("one tensor per feature", message, StringComparison.Ordinal);
        Assert.Contains("\"input-0\" [20, 16]", message, StringComparison.Ordinal);
        Assert.All(CustomerGenerator.Schema.Features, f => Assert.Contains(f.Name, message, StringComparison.Ordinal));
        Assert.True(text.Length < 2000, text);
    }

    [Fact]
    public async Task NestedDataAndNx1ShapesNumberTypesAndTextScoreTheSameAsFlatTensors()
    {
        using var client = server.ClientFor("service");
        var expected = await ProbabilitiesAsync(client, Request());
        var request = Request();
        var tenure = Tensor(request, "tenureMonths");
        tenure["shape"] = new JsonArray(Rows, 1);
        tenure["data"] = new JsonArray([.. tenure["data"]!.AsArray().Select(v => new JsonArray(v?.DeepClone()))]);
        var calls = Tensor(request, "supportCalls");
        calls["datatype"] = "INT32";
        var charges = Tensor(request, "monthlyCharges");
        charges["datatype"] = "BYTES";
        charges["data"] = new JsonArray([.. charges["data"]!.AsArray().Select(v => JsonValue.Create(v?.ToJsonString()))]);
        var partner = Tensor(request, "partner");
        partner["datatype"] = "FP32";
        partner["data"] = new JsonArray([.. partner["data"]!.AsArray().Select(v => JsonValue.Create(v!.GetValue<bool>() ? 1.0 : 0.0))]);
        var senior = Tensor(request, "seniorCitizen");
        senior["datatype"] = "BYTES";
        senior["data"] = new JsonArray([.. senior["data"]!.AsArray().Select(v => JsonValue.Create(v!.GetValue<bool>() ? "Yes" : "No"))]);

        Assert.Equal(expected, await ProbabilitiesAsync(client, request));
    }

    [Fact]
    public async Task RequestedOutputsAreTheOnesReturnedInTheirOrderAndParametersAreAccepted()
    {
        using var client = server.ClientFor("service");
        var request = Request();
        request["id"] = "req-9";
        request["parameters"] = new JsonObject { ["content_type"] = "pd", ["headers"] = new JsonObject() };
        Tensor(request, "region")["parameters"] = new JsonObject { ["content_type"] = "str" };
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "risk_tier" }, new JsonObject { ["name"] = "churn_probability", ["parameters"] = new JsonObject { ["binary_data"] = false } });

        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.ReadObjectAsync();
        Assert.Equal("req-9", (string?)result["id"]);
        Assert.Equal(["risk_tier", "churn_probability"], result["outputs"]!.AsArray().Select(o => (string)o!["name"]!));
        Assert.All(result["outputs"]!.AsArray(), o => Assert.Equal(Rows, o!["data"]!.AsArray().Count));
    }

    [Fact]
    public async Task V2HealthAnswersWithoutAKeyAndMetadataGivesEachFeaturesDatatype()
    {
        using var anonymous = server.Client();

        Assert.True(JsonNode.Parse(await anonymous.GetStringAsync("/v2/health/live"))!["live"]!.GetValue<bool>());
        Assert.True(JsonNode.Parse(await anonymous.GetStringAsync("/v2/health/ready"))!["ready"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v2/models/churn")).StatusCode);
        var inputs = (await server.GetJsonAsync("viewer", "/v2/models/churn"))["inputs"]!.AsArray();
        Assert.All(CustomerGenerator.Schema.Features, f =>
            Assert.Equal(Datatype(f.Kind), (string?)inputs.Single(i => (string?)i!["name"] == f.Name)!["datatype"]));
    }

    [Fact]
    public async Task TensorsOfNoRowsAreRefusedNamingTheInputs()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(Request(rows: 0)));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "inputs");
    }

    [Fact]
    public async Task MoreRowsThanTheBatchLimitAreRefusedWith413NamingTheInputs()
    {
        using var client = server.ClientFor("service");

        var response = await client.PostAsync("/v2/models/churn/infer", Bodies.Json(Request(rows: 101)));

        await response.AssertFieldErrorAsync(HttpStatusCode.RequestEntityTooLarge, "inputs");
    }
}
