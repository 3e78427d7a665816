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
    public static async Task RetrainAsync(HttpClient admin)
    {
        var started = await admin.PostAsync("/retrain", Json("""{"rows": 600, "seed": 11}"""));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var status = "";
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline && status is not ("Succeeded" or "Failed"); await Task.Delay(500))
        {
            status = (await admin.GetFromJsonAsync<JsonObject>($"/jobs/{job}"))!["status"]!.GetValue<string>();
        }
        Assert.Equal("Succeeded", status);
    }

    /// <summary><c>POST /models/{version}/promote</c>; asserts 200.</summary>
    public static async Task PromoteAsync(HttpClient admin, int version) =>
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/models/{version}/promote", Json("""{"reason": "container test"}"""))).StatusCode);
}
