using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Churn.Core.Generation;
using Xunit;

namespace Churn.Testing;

/// <summary>Request bodies built from generated customers, so they always match the served model's schema, and readers of the answers.</summary>
public static class Bodies
{
    public static readonly IReadOnlyList<string> Header = CustomerGenerator.Header;

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Generated customers as {"customerId", "features"} objects.</summary>
    public static List<JsonObject> Customers(int count, int seed = 7, double drift = 0) => GeneratedCustomers.Json(count, seed, drift);

    public static JsonObject Customer(int seed = 7) => Customers(1, seed)[0];

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    public static string Csv(int rows, int seed = 7) => GeneratedCustomers.Csv(rows, seed);

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>Asserts the response is a ProblemDetails (<c>application/problem+json</c>) with <paramref name="status"/>.</summary>
    public static void AssertProblem(this HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Asserts the response has <paramref name="status"/> and returns its ProblemDetails' field errors.</summary>
    public static async Task<JsonObject> ReadErrorsAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        return (await response.ReadObjectAsync())["errors"]!.AsObject();
    }

    /// <summary>Asserts the response has <paramref name="status"/> and a ProblemDetails error naming <paramref name="field"/>; returns all its field errors.</summary>
    public static async Task<JsonObject> AssertFieldErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var errors = await response.ReadErrorsAsync(status);
        Assert.True(errors.ContainsKey(field), errors.ToJsonString());
        return errors;
    }
}
