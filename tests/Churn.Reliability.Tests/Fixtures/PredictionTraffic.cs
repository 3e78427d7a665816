namespace Churn.Reliability.Tests.Fixtures;

/// <summary>Predictions sent to a server process (see <see cref="LocalStore.CountLoggedAsync"/> for what reached its store).</summary>
public static class PredictionTraffic
{
    /// <summary>
    /// One batch of <paramref name="count"/> generated customers with ids <paramref name="prefix"/>-0, -1, …; asserts it was
    /// answered and returns the prediction ids.
    /// </summary>
    public static async Task<List<Guid>> PredictBatchAsync(HttpClient client, string prefix, int count)
    {
        var customers = Bodies.Customers(count, seed: Math.Abs(prefix.GetHashCode(StringComparison.Ordinal)) % 10_000);
        for (var i = 0; i < customers.Count; i++)
        {
            customers[i]["customerId"] = $"{prefix}-{i}";
        }
        var response = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadObjectAsync())["predictions"]!.AsArray().Select(p => Guid.Parse(p!["predictionId"]!.GetValue<string>()))];
    }
}
