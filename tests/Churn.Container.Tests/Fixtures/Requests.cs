namespace Churn.Container.Tests.Fixtures;

/// <summary>The API calls several container tests make.</summary>
internal static class Requests
{
    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>The model version a prediction is answered with.</summary>
    public static async Task<int> ServingVersionAsync(HttpClient client)
    {
        var response = await client.PostAsync("/predict", ScaleFixture.PredictBody("version-check", 5));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["modelVersion"]!.GetValue<int>();
    }

    /// <summary><c>POST /retrain</c> of a small model, waited for (at most three minutes); asserts that it succeeded.</summary>
    public static async Task RetrainAsync(HttpClient admin) =>
        Assert.Equal("Succeeded", (await BackgroundJobs.FinishedAsync(admin, await BackgroundJobs.RetrainAsync(admin, rows: 600, seed: 11)))["status"]!.GetValue<string>());

    /// <summary><c>POST /models/{version}/promote</c>; asserts 200.</summary>
    public static async Task PromoteAsync(HttpClient admin, int version) =>
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/models/{version}/promote", Json("""{"reason": "container test"}"""))).StatusCode);
}
