using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Server.Models;
using Xunit.Abstractions;

namespace Churn.Server.Tests;

/// <summary>
/// The false-alarm rate of drift monitoring measured through the server: generated same-distribution traffic posted to
/// /predict/batch, one monitoring check per window, verdicts read back from the API.
/// </summary>
public sealed class DriftFalseAlarmTests(MonitoringServer server, ITestOutputHelper output) : IClassFixture<MonitoringServer>
{
    private const int Windows = 30;
    private const int RowsPerWindow = 400;

    [Fact]
    public async Task SameDistributionTrafficRarelyAlarmsAndShiftedTrafficIsDetected()
    {
        using var admin = server.Admin();
        var card = server.Factory.Services.GetRequiredService<ModelHost>().Require().Card;
        int datasetAlarms = 0, featureAlarms = 0, featureTests = 0, maxDrifted = 0, differences = 0;
        for (var seed = 1000; seed < 1000 + Windows; seed++)
        {
            var (summary, features) = await CheckWindowAsync(admin, seed, drift: 0);
            datasetAlarms += summary["datasetDrift"]!.GetValue<bool>() ? 1 : 0;
            var drifted = features.Count(f => f!["drifted"]!.GetValue<bool>());
            featureAlarms += drifted;
            featureTests += features.Count;
            maxDrifted = Math.Max(maxDrifted, drifted);
            Assert.DoesNotContain(summary["alerts"]!.AsArray(), a => (string?)a!["kind"] == "drift");

            // The same rows read from a CSV file give exactly the statistics the server computed from its prediction log:
            // nothing is lost or re-encoded between the request body, the logged inputs and the reference profile.
            var direct = DriftDetector.Detect(card, DatasetLoader.Load(GeneratedCustomers.CsvFile(RowsPerWindow, seed), CustomerGenerator.Schema));
            foreach (var f in features)
            {
                var expected = direct.Features.Single(d => d.Feature == f!["name"]!.GetValue<string>());
                var statistic = f!["statistic"]?.GetValue<double>();
                var same = expected.Statistic is { } e && statistic is { } s ? Math.Abs(e - s) <= 1e-9 : expected.Statistic is null && statistic is null;
                differences += !same || expected.Drifted != f["drifted"]!.GetValue<bool>() ? 1 : 0;
            }
        }

        var shifted = 0;
        const int shiftedWindows = 5;
        for (var seed = 2000; seed < 2000 + shiftedWindows; seed++)
        {
            var (summary, _) = await CheckWindowAsync(admin, seed, drift: 0.5);
            shifted += summary["datasetDrift"]!.GetValue<bool>() ? 1 : 0;
        }

        var featureRate = (double)featureAlarms / featureTests;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Windows} same-distribution windows of {RowsPerWindow} predictions through the server: dataset-drift alarms {datasetAlarms}, " +
            $"per-feature false-positive rate {featureRate:P1} ({featureAlarms} of {featureTests}), at most {maxDrifted} of {card.Reference.Count} features in one window; " +
            $"shifted windows (drift 0.5) detected {shifted} of {shiftedWindows}"));
        Assert.Equal(0, differences);
        Assert.True(datasetAlarms <= 1, $"{datasetAlarms} dataset-drift alarms in {Windows} same-distribution windows");
        // Each feature is tested at the 5 % level.
        Assert.InRange(featureRate, 0, 0.08);
        Assert.Equal(shiftedWindows, shifted);
    }

    /// <summary>Posts one window of generated customers and runs a check over exactly those predictions.</summary>
    private async Task<(JsonObject Summary, JsonArray Features)> CheckWindowAsync(HttpClient admin, int seed, double drift)
    {
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));
        await server.PredictAsync(admin, RowsPerWindow, seed, drift);
        var summary = await (await admin.PostAsync($"/monitoring/run?from={from}", null)).ReadObjectAsync();
        Assert.Equal(RowsPerWindow, summary["rows"]!.GetValue<int>());
        var series = JsonNode.Parse(await admin.GetStringAsync($"/monitoring/drift?from={from}"))!.AsArray();
        return (summary, series[^1]!["result"]!["features"]!.AsArray());
    }
}
