using Xunit.Abstractions;

namespace Churn.Server.Tests;

public sealed class ShadowScoringTests(MonitoringServer server, ITestOutputHelper output) : IClassFixture<MonitoringServer>
{
    [Fact]
    public async Task AChallengerShadowScoresLiveTrafficAndTheComparisonIsServed()
    {
        using var admin = server.Admin();
        var invalid = await admin.PutAsync("/config", Bodies.Json("""{"model": {"shadow_share": 1.5}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Contains("model.shadow_share", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Off by default: predictions are not offered to the shadow queue.
        var before = await ShadowAsync(admin);
        await server.PredictAsync(admin, 50, seed: 31, drift: 0);
        Assert.Equal(before["queue"]!["offered"]!.GetValue<long>(), (await ShadowAsync(admin))["queue"]!["offered"]!.GetValue<long>());

        // A challenger kept back by a margin it cannot reach, then every live prediction shadowed.
        (await admin.PutAsync("/config", Bodies.Json("""{"model": {"promotion_margin": 0.5}}"""))).EnsureSuccessStatusCode();
        var retrain = await MonitoringTests.RetrainAsync(admin, null);
        var challenger = retrain["modelVersion"]!.GetValue<int>();
        (await admin.PutAsync("/config", Bodies.Json("""{"model": {"shadow_share": 1}}"""))).EnsureSuccessStatusCode();
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));
        var predictions = await server.PredictAsync(admin, 300, seed: 32, drift: 0);
        foreach (var (id, churned) in predictions)
        {
            (await admin.PostAsync("/feedback", Bodies.Json(new JsonObject { ["predictionId"] = id, ["churned"] = churned }))).EnsureSuccessStatusCode();
        }

        JsonObject shadow = [];
        for (var i = 0; i < 400; i++)
        {
            shadow = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/shadow?from={from}"))!.AsObject();
            if (shadow["rows"]!.GetValue<int>() >= predictions.Count)
            {
                break;
            }
            await Task.Delay(50);
        }

        output.WriteLine(shadow.ToJsonString());
        Assert.Equal(predictions.Count, shadow["rows"]!.GetValue<int>());
        Assert.Equal(challenger, shadow["challengerVersion"]!.GetValue<int>());
        Assert.DoesNotContain(challenger, shadow["championVersions"]!.AsArray().Select(v => v!.GetValue<int>()));
        // Two models trained on the same data: close but not identical scores, mostly the same decisions.
        Assert.InRange(shadow["meanAbsoluteDifference"]!.GetValue<double>(), 1e-6, 0.2);
        Assert.InRange(shadow["decisionAgreement"]!.GetValue<double>(), 0.7, 1.0);
        Assert.InRange(shadow["tierAgreement"]!.GetValue<double>(), 0.5, 1.0);
        Assert.Equal(predictions.Count, shadow["labelled"]!.GetValue<int>());
        Assert.InRange(shadow["championAuc"]!.GetValue<double>(), 0.6, 1.0);
        Assert.InRange(shadow["challengerAuc"]!.GetValue<double>(), 0.6, 1.0);
        Assert.Equal(0, shadow["queue"]!["dropped"]!.GetValue<long>());
        (await admin.PutAsync("/config", Bodies.Json("""{"model": {"shadow_share": 0, "promotion_margin": 0.005}}"""))).EnsureSuccessStatusCode();
    }

    private static async Task<JsonObject> ShadowAsync(HttpClient admin) =>
        JsonNode.Parse(await admin.GetStringAsync("/monitoring/shadow"))!.AsObject();
}
