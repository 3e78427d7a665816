namespace Churn.Reliability.Tests.Fixtures;

/// <summary>What a server process serves, judged from the outside after a fault.</summary>
public static class Serving
{
    /// <summary>The version serving (as /models reports it), which must also be the champion alias.</summary>
    public static async Task<int> ChampionAsync(HttpClient admin)
    {
        var models = await admin.GetFromJsonAsync<JsonArray>("/models");
        var champion = models!.Single(m => m!["aliases"]!.AsArray().Any(a => (string?)a == "champion"))!;
        Assert.True(champion["serving"]!.GetValue<bool>(), $"the champion v{champion["version"]} is not the serving model");
        return champion["version"]!.GetValue<int>();
    }

    /// <summary>Asserts <paramref name="champion"/> is the champion the server serves and that it answers a prediction itself.</summary>
    public static async Task AssertChampionServesAsync(HttpClient admin, int champion)
    {
        Assert.Equal(champion, await ChampionAsync(admin));
        var prediction = await admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
        Assert.Equal(HttpStatusCode.OK, prediction.StatusCode);
        Assert.Equal(champion, (await prediction.ReadObjectAsync())["modelVersion"]!.GetValue<int>());
    }
}
