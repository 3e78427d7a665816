namespace Churn.Server.Tests;

/// <summary>
/// The server's drift verdict over real HTTP: features with no values or too few values, the operator's settings, and the
/// same verdict as <c>churn drift</c> (the real CLI process) on the same window against the same store.
/// </summary>
public sealed class DriftVerdictTests(MonitoringServer server) : IClassFixture<MonitoringServer>
{
    [Fact]
    public async Task TheServersCheckAndChurnDriftGiveTheSameVerdictOnTheSameWindow()
    {
        using var admin = server.Admin();
        // A non-default threshold in the store: churn drift pointed at the data directory must use it too.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/config", Bodies.Json("""{"model": {"drift_threshold": 0.2}}"""))).StatusCode);
        try
        {
            var verdicts = new List<bool>();
            foreach (var (seed, drift) in new[] { (3100, 0.0), (3101, 0.5) })
            {
                var (summary, stored) = await CheckWindowAsync(admin, 400, seed, drift);
                var csv = GeneratedCustomers.CsvFile(400, seed, drift);
                // The version the check used, not "champion": a drift alert may have started a retraining that promotes another.
                var cli = await ChurnCommand.RunAsync(["drift", "--model", $"v{summary["championVersion"]!.GetValue<int>()}", "--data-dir", server.DataDir, "--current", csv, "--json"]);
                Assert.True(cli.ExitCode == 0, cli.Stderr);
                var report = JsonNode.Parse(cli.Stdout)!;

                Assert.Equal(0.2, report["datasetDriftShare"]!.GetValue<double>());
                Assert.Equal(0.2, stored["datasetDriftShare"]!.GetValue<double>());
                Assert.Equal(stored["datasetDrift"]!.GetValue<bool>(), report["datasetDrift"]!.GetValue<bool>());
                Assert.Equal(summary["datasetDrift"]!.GetValue<bool>(), report["datasetDrift"]!.GetValue<bool>());
                Assert.Equal(stored["driftShare"]!.GetValue<double>(), report["driftShare"]!.GetValue<double>(), 1e-12);
                Assert.Equal(summary["driftedShare"]!.GetValue<double>(), report["driftShare"]!.GetValue<double>(), 1e-12);
                foreach (var feature in report["features"]!.AsArray())
                {
                    var name = feature!["name"]!.GetValue<string>();
                    var fromServer = stored["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == name)!;
                    Assert.Equal(fromServer["verdict"]!.GetValue<string>(), feature["verdict"]!.GetValue<string>());
                    Assert.Equal(fromServer["statistic"]!.GetValue<double>(), feature["statistic"]!.GetValue<double>(), 1e-9);
                }
                verdicts.Add(report["datasetDrift"]!.GetValue<bool>());
            }
            // Both verdicts occur, so the comparison covers a drifted window as well as a stable one.
            Assert.Equal([false, true], verdicts);
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"model": {"drift_threshold": 0.35}}"""));
        }
    }

    [Fact]
    public async Task AFeatureWithNoValuesIsStoredAsNoValuesAndATinyWindowAsTooFewValues()
    {
        using var admin = server.Admin();

        var (summary, stored) = await CheckWindowAsync(admin, 200, seed: 3200, drift: 0, blank: "monthlyCharges");
        var charges = stored["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "monthlyCharges")!;
        Assert.Equal("no values", charges["verdict"]!.GetValue<string>());
        Assert.False(charges["drifted"]!.GetValue<bool>());
        Assert.Equal(1, charges["currentMissingShare"]!.GetValue<double>());
        Assert.Null(charges["statistic"]);
        Assert.StartsWith("no values in 200 rows", charges["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("monthlyCharges", summary["driftedFeatures"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Contains(summary["alerts"]!.AsArray(), a => (string?)a!["kind"] == "data_quality" && ((string?)a["message"])!.Contains("monthlyCharges: 100 % missing", StringComparison.Ordinal));

        // Ten predictions: stored with no verdict and the reason, where the check used to store nothing.
        (summary, stored) = await CheckWindowAsync(admin, 10, seed: 3201, drift: 1);
        Assert.Equal(10, summary["rows"]!.GetValue<int>());
        Assert.False(summary["datasetDrift"]!.GetValue<bool>());
        Assert.All(stored["features"]!.AsArray(), f => Assert.Equal("too few values", f!["verdict"]!.GetValue<string>()));
        var tenure = stored["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "tenureMonths")!;
        Assert.Equal("10 values: at least 30 are needed for a KS verdict", tenure["reason"]!.GetValue<string>());

        // The minimum is a runtime setting.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/config", Bodies.Json("""{"model": {"drift_min_values_ks": 5}}"""))).StatusCode);
        try
        {
            (_, stored) = await CheckWindowAsync(admin, 10, seed: 3202, drift: 1);
            tenure = stored["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "tenureMonths")!;
            Assert.NotEqual("too few values", tenure["verdict"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PutAsync("/config", Bodies.Json("""{"model": {"drift_min_values_chi2": 0}}"""))).StatusCode);
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"model": {"drift_min_values_ks": 30}}"""));
        }
    }

    /// <summary>Posts one window of generated customers (one feature blanked if asked) and runs a check over exactly those predictions.</summary>
    private async Task<(JsonObject Summary, JsonObject Stored)> CheckWindowAsync(HttpClient admin, int rows, int seed, double drift, string? blank = null)
    {
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));
        if (blank is null)
        {
            await server.PredictAsync(admin, rows, seed, drift);
        }
        else
        {
            var customers = Bodies.Customers(rows, seed, drift);
            foreach (var customer in customers)
            {
                customer["features"]![blank] = null;
            }
            var response = await admin.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers.Take(100)]) }));
            response.EnsureSuccessStatusCode();
            response = await admin.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers.Skip(100)]) }));
            response.EnsureSuccessStatusCode();
            await WaitForLogAsync(rows, from);
        }
        var summary = await (await admin.PostAsync($"/monitoring/run?from={from}", null)).ReadObjectAsync();
        Assert.Equal(rows, summary["rows"]!.GetValue<int>());
        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/drift?from={from}"))!.AsArray();
        return (summary, series[^1]!["result"]!.AsObject());
    }

    private async Task WaitForLogAsync(int rows, string from)
    {
        var since = DateTimeOffset.Parse(Uri.UnescapeDataString(from), CultureInfo.InvariantCulture);
        for (var attempt = 0; attempt < 400; attempt++)
        {
            await using var db = server.Factory.Store.CreateDbContext();
            if (db.PredictionLog.Count(p => p.Time >= since) >= rows)
            {
                return;
            }
            await Task.Delay(25);
        }
    }
}
