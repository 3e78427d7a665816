namespace Churn.Reliability.Tests.Fixtures;

/// <summary>Valid request bodies built from generated customers, so they always match the served model's schema.</summary>
public static class Bodies
{
    public static List<JsonObject> Customers(int count, int seed = 7) => GeneratedCustomers.Json(count, seed);

    public static JsonObject Customer(int seed = 7) => Customers(1, seed)[0];

    public static string Csv(int rows, int seed = 7) => GeneratedCustomers.Csv(rows, seed);

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
}
