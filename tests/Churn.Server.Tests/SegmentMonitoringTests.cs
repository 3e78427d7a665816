using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Tests;

/// <summary>
/// Monitoring per segment, calibration and maturing outcomes, through the HTTP API of a server of its own (its alerts and
/// settings stay its own): generated traffic posted to <c>/predict/batch</c>, checks run with <c>POST /monitoring/run</c>.
/// </summary>
public sealed class SegmentMonitoringTests(MonitoringServer server) : IClassFixture<MonitoringServer>
{
    /// <summary>Customers with at least this tenure are about 10 % of the generated population (two-year contracts mostly).</summary>
    private const int LoyalTenure = 62;

    private const string Segments = "contract; tenureMonths: 62";

    [Fact]
    public async Task AShiftConfinedToATenthOfCustomersIsAlertedNamingItsSegmentWhileTheGlobalShareStaysUnderItsThreshold()
    {
        using var admin = server.Admin();
        await ConfigureAsync(admin, new JsonObject { ["segments"] = Segments });
        var from = DateTimeOffset.UtcNow;
        var run = $"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}";
        var customers = Bodies.Customers(2000, seed: 31);
        var loyal = customers.Count(c => Tenure(c) >= LoyalTenure);
        Assert.InRange(loyal / 2000.0, 0.07, 0.13);

        // The loyal customers call more, pay more, log in less and like the service less; nobody else changes.
        foreach (var customer in customers.Where(c => Tenure(c) >= LoyalTenure))
        {
            var f = customer["features"]!.AsObject();
            f["monthlyCharges"] = f["monthlyCharges"]!.GetValue<double>() + 12;
            f["supportCalls"] = f["supportCalls"]!.GetValue<double>() + 1;
            f["lastLoginDaysAgo"] = f["lastLoginDaysAgo"]!.GetValue<double>() + 6;
            f["monthlyUsageGb"] = Math.Round(f["monthlyUsageGb"]!.GetValue<double>() * 1.4, 2);
            f["paymentMethod"] = "Electronic check";
            f["paperlessBilling"] = true;
            if (f["satisfactionScore"] is { } s)
            {
                f["satisfactionScore"] = Math.Max(1, s.GetValue<double>() - 1);
            }
            if (f["totalCharges"] is { } t)
            {
                f["totalCharges"] = Math.Round(t.GetValue<double>() * 1.2, 2);
            }
        }

        var checks = new List<JsonObject>();
        foreach (var half in customers.Chunk(1000))
        {
            await server.PredictAsync(admin, half);
            checks.Add(await (await admin.PostAsync(run, null)).ReadObjectAsync());
        }

        const string segment = "tenureMonths=62+";
        foreach (var check in checks)
        {
            Assert.False(check["datasetDrift"]!.GetValue<bool>(), check.ToJsonString());
            Assert.True(check["driftedShare"]!.GetValue<double>() <= 0.35, check.ToJsonString());
        }
        var alert = checks.SelectMany(c => c["alerts"]!.AsArray()).Single(a => (string?)a!["kind"] == $"drift:{segment}")!;
        Assert.Contains($"Segment {segment}", alert["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(checks.SelectMany(c => c["alerts"]!.AsArray()), a => (string?)a!["kind"] is "drift" or "drift:tenureMonths=<62");

        // The segment's own series, against the segment's reference rows.
        var series = JsonNode.Parse(await admin.GetStringAsync(
            $"/monitoring/drift?from={Uri.EscapeDataString(from.ToString("O"))}&segment={Uri.EscapeDataString(segment)}"))!.AsArray();
        Assert.Equal(2, series.Count);
        Assert.True(series[^1]!["result"]!["datasetDrift"]!.GetValue<bool>(), series[^1]!.ToJsonString());
        Assert.InRange(series[^1]!["result"]!["currentRows"]!.GetValue<int>(), 140, 260);
        var summary = checks[^1]["segments"]!.AsArray();
        Assert.Contains(summary, s => (string?)s!["segment"] == "contract=Month-to-month");
        Assert.Contains(summary, s => (string?)s!["segment"] == "tenureMonths=<62");
    }

    [Fact]
    public async Task AMiscalibrationOfTwentyPercentInOneSegmentIsAlertedNamingIt()
    {
        using var admin = server.Admin();
        await ConfigureAsync(admin, new JsonObject { ["segments"] = Segments });
        var from = DateTimeOffset.UtcNow;
        var customers = Bodies.Customers(1500, seed: 32);
        var predictions = await server.PredictAsync(admin, customers);

        // Outcomes drawn from the served probabilities, 20 % more often for month-to-month customers: the model is
        // calibrated everywhere but there, by construction.
        var random = new Random(32);
        for (var i = 0; i < customers.Count; i++)
        {
            var (id, p) = predictions[i];
            var factor = (string?)customers[i]["features"]!["contract"] == "Month-to-month" ? 1.2 : 1.0;
            var churned = random.NextDouble() < Math.Min(1, p * factor);
            (await admin.PostAsync("/feedback", Bodies.Json(new JsonObject { ["predictionId"] = id, ["churned"] = churned }))).EnsureSuccessStatusCode();
        }

        var check = await (await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null)).ReadObjectAsync();

        var alerts = check["alerts"]!.AsArray();
        var alert = alerts.Single(a => (string?)a!["kind"] == "calibration:contract=Month-to-month")!;
        Assert.Contains("too little churn predicted", alert["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(alerts, a => (string?)a!["kind"] is "calibration:contract=One year" or "calibration:contract=Two year");
        var series = JsonNode.Parse(await admin.GetStringAsync(
            $"/monitoring/performance?from={Uri.EscapeDataString(from.ToString("O"))}&segment={Uri.EscapeDataString("contract=Month-to-month")}"))!.AsArray();
        var calibration = series.Single()!["result"]!["versions"]![0]!["realised"]!["calibration"]!;
        Assert.InRange(calibration["ratio"]!.GetValue<double>(), 1.08, 1.35);
        Assert.True(calibration["low"]!.GetValue<double>() > 1.05, calibration.ToJsonString());
    }

    [Fact]
    public async Task AWindowYoungerThanTheOutcomeWindowShowsMaturingNotARealisedF1()
    {
        using var admin = server.Admin();
        await ConfigureAsync(admin, new JsonObject { ["outcome_window_days"] = 30, ["label_delay_days"] = 5 });
        try
        {
            var from = DateTimeOffset.UtcNow;
            // Predictions made 35 days ago (their outcome window and label delay have passed) and today's, both with feedback.
            var old = await server.PredictAsync(admin, 200, seed: 33, drift: 0);
            await FeedbackAsync(admin, old);
            var oldIds = old.Select(o => Guid.Parse(o.PredictionId)).ToList();
            await using (var db = server.Factory.Store.CreateDbContext())
            {
                foreach (var entry in await db.PredictionLog.Where(p => oldIds.Contains(p.Id)).ToListAsync())
                {
                    entry.Time = entry.Time.AddDays(-35);
                }
                await db.SaveChangesAsync();
            }
            var recent = await server.PredictAsync(admin, 200, seed: 34, drift: 0);
            await FeedbackAsync(admin, recent);

            await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null);

            var point = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/performance?from={Uri.EscapeDataString(from.ToString("O"))}"))!.AsArray()[^1]!;
            var current = point["result"]!["versions"]!.AsArray().Single()!;
            Assert.Equal("maturing", current["outcomes"]!.GetValue<string>());
            Assert.Null(current["realised"]);
            Assert.Equal(200, current["maturing"]!.GetValue<int>());
            Assert.True(current["maturesAt"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddDays(34), current.ToJsonString());
            Assert.NotNull(current["estimated"]!["f1"]);

            var matured = point["result"]!["matured"]!;
            var version = matured["versions"]!.AsArray().Single()!;
            Assert.Equal("final", version["outcomes"]!.GetValue<string>());
            Assert.Equal(200, version["realised"]!["labelled"]!.GetValue<int>());
            Assert.InRange(version["realised"]!["f1"]!.GetValue<double>(), 0.01, 1.0);
        }
        finally
        {
            await ConfigureAsync(admin, new JsonObject { ["outcome_window_days"] = 0, ["label_delay_days"] = 30 });
        }
    }

    [Fact]
    public async Task AJointChangeLeavingEveryMarginalUnchangedIsCaughtByTheDomainClassifierAndByNoUnivariateTest()
    {
        using var admin = server.Admin();
        // An earlier shift in this server may have raised one already; acknowledged, the kind may alert again.
        foreach (var open in JsonNode.Parse(await admin.GetStringAsync("/alerts?open=true"))!.AsArray().Where(a => (string?)a!["kind"] == "drift_multivariate"))
        {
            (await admin.PostAsync($"/alerts/{open!["id"]}/acknowledge", null)).EnsureSuccessStatusCode();
        }
        var customers = Bodies.Customers(1000, seed: 35);
        // The same customers again with total charges shuffled among them: each feature's values are exactly as before.
        var shuffled = customers.Select(c => (JsonObject)c.DeepClone()).ToList();
        var totals = shuffled.Select(c => c["features"]!["totalCharges"]?.DeepClone()).ToArray();
        new Random(35).Shuffle(totals);
        for (var i = 0; i < shuffled.Count; i++)
        {
            shuffled[i]["features"]!["totalCharges"] = totals[i];
        }

        var checks = new List<JsonObject>();
        var first = DateTimeOffset.UtcNow;
        foreach (var window in new[] { customers, shuffled })
        {
            var from = DateTimeOffset.UtcNow;
            await server.PredictAsync(admin, window);
            checks.Add(await (await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null)).ReadObjectAsync());
        }

        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/drift?from={Uri.EscapeDataString(first.ToString("O"))}"))!.AsArray();
        Assert.Equal(2, series.Count);
        var (before, after) = (series[0]!["result"]!, series[1]!["result"]!);
        static IEnumerable<string> Verdicts(JsonNode report) =>
            report["features"]!.AsArray().Select(f => $"{f!["name"]}:{f["verdict"]}:{f["statistic"]}");
        Assert.Equal(Verdicts(before), Verdicts(after));
        Assert.False(after["datasetDrift"]!.GetValue<bool>());
        Assert.False(before["domain"]!["drifted"]!.GetValue<bool>(), before["domain"]!.ToJsonString());
        Assert.True(after["domain"]!["drifted"]!.GetValue<bool>(), after["domain"]!.ToJsonString());
        Assert.Contains("totalCharges", after["domain"]!["separating"]!.AsArray().Take(2).Select(f => (string?)f!["feature"]));
        Assert.DoesNotContain(checks[0]["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift_multivariate");
        Assert.Contains(checks[1]["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift_multivariate");
    }

    [Fact]
    public async Task AMalformedSegmentSettingOrSegmentQueryIsRefusedNamingTheField()
    {
        using var admin = server.Admin();

        var setting = await admin.PutAsync("/config", Bodies.Json(new JsonObject { ["monitoring"] = new JsonObject { ["segments"] = "tenureMonths: 24, 6" } }));
        var query = await admin.GetAsync("/monitoring/drift?segment=contract");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, setting.StatusCode);
        Assert.Contains("must increase", (await setting.ReadObjectAsync())["errors"]!["monitoring.segments"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, query.StatusCode);
        Assert.NotNull((await query.ReadObjectAsync())["errors"]!["segment"]);

        // A column the model does not have is reported by the check, which still judges the others.
        await ConfigureAsync(admin, new JsonObject { ["segments"] = "plan; contract" });
        var from = DateTimeOffset.UtcNow;
        await server.PredictAsync(admin, 100, seed: 36, drift: 0);
        var check = await admin.PostAsync($"/monitoring/run?from={Uri.EscapeDataString(from.ToString("O"))}", null);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        var point = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/segments?from={Uri.EscapeDataString(from.ToString("O"))}"))!.AsArray().Single()!;
        Assert.Contains("'plan' is not a feature", point["result"]!["problems"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(point["result"]!["segments"]!.AsArray(), s => (string?)s!["segment"] == "contract=Month-to-month");
    }

    private static double Tenure(JsonObject customer) => customer["features"]!["tenureMonths"]!.GetValue<double>();

    private static async Task ConfigureAsync(HttpClient admin, JsonObject monitoring)
    {
        var response = await admin.PutAsync("/config", Bodies.Json(new JsonObject { ["monitoring"] = monitoring }));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task FeedbackAsync(HttpClient admin, IEnumerable<(string PredictionId, bool Churned)> outcomes)
    {
        foreach (var (id, churned) in outcomes)
        {
            (await admin.PostAsync("/feedback", Bodies.Json(new JsonObject { ["predictionId"] = id, ["churned"] = churned }))).EnsureSuccessStatusCode();
        }
    }
}
