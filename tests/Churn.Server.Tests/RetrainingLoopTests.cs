using Churn.Data.Tracking;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Churn.Server.Tests;

/// <summary>The monitoring server with a test clock in place of the system one: the test decides when time passes.</summary>
public sealed class ClockedMonitoringServer : MonitoringServer
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureServer(IWebHostBuilder builder) => builder.ConfigureServices(services =>
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton<TimeProvider>(Clock);
    });
}

/// <summary>
/// The whole loop driven by the clock: time passing the check interval runs the monitoring job, drifted traffic raises
/// one signed alert that cools down, each alert starts a retraining, and only a challenger that beats the champion
/// by the margin is promoted.
/// </summary>
public sealed class RetrainingLoopTests(ClockedMonitoringServer server) : IClassFixture<ClockedMonitoringServer>
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Cooldown = TimeSpan.FromHours(1);

    [Fact]
    public async Task TimeDrivesChecksAndDriftAlertsOnceThenRetrainsAndPromotesOnlyABetterChallenger()
    {
        using var admin = server.Admin();
        // A 15-minute window lets traffic age out of the checks once the clock has moved past the cool-down.
        // A margin no challenger can reach (AUC 0.3 above the champion) keeps the first retrained model back.
        await PutConfigAsync(admin, """{"monitoring": {"window": "00:15:00", "alert_cooldown": "01:00:00"}, "model": {"promotion_margin": 0.3}}""");
        var champion = await ChampionAsync(admin);

        // Drifted traffic; once the clock passes the check interval the job checks it and raises a drift alert.
        await server.PredictAsync(admin, 400, seed: 21, drift: 1);
        var first = (await NextCheckAsync(admin))!;
        Assert.True(first["datasetDrift"]!.GetValue<bool>(), first.ToJsonString());
        var alerts = await DriftAlertsAsync(admin);
        var alert = Assert.Single(alerts);
        var signed = await DeliveryAsync(alert["id"]!.GetValue<string>());
        Assert.True(signed.SignatureValid);
        Assert.Contains("\"kind\":\"drift\"", signed.Body, StringComparison.Ordinal);

        // The alert started a retraining on the reference data; it does not beat the champion by the margin, so it is
        // registered as challenger and kept back with its reason in the audit log.
        var refused = await AuditAsync(admin, "model.promotion_refused", "Drift", 1);
        var keptBack = int.Parse(refused["target"]!.GetValue<string>().Split(":v")[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("does not beat", refused["details"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(champion, await ChampionAsync(admin));
        Assert.Contains("challenger", await AliasesAsync(admin, keptBack));
        Assert.Equal(1, await RunsAsync(RunTrigger.Drift, RunStatus.Finished));

        // The next check still sees the drift, but the open alert is cooling down: no second alert, no second retraining.
        var second = (await NextCheckAsync(admin))!;
        Assert.True(second["datasetDrift"]!.GetValue<bool>());
        Assert.Empty(second["alerts"]!.AsArray());
        Assert.Single(await DriftAlertsAsync(admin));

        // A weak champion, trained by hand on a few drifted customers, then reference-like traffic after the cool-down.
        var weak = await MonitoringTests.RetrainAsync(admin, """{"rows": 500, "drift": 1, "seed": 3}""");
        var weakVersion = weak["modelVersion"]!.GetValue<int>();
        (await admin.PostAsync($"/models/{weakVersion}/promote", null)).EnsureSuccessStatusCode();
        await PutConfigAsync(admin, """{"model": {"promotion_margin": 0.005}}""");
        await NextCheckAsync(admin, Cooldown);
        await server.PredictAsync(admin, 400, seed: 22, drift: 0);
        var third = (await NextCheckAsync(admin))!;

        // Against the weak champion's drifted reference the traffic drifts; past the cool-down the alert is raised again.
        Assert.True(third["datasetDrift"]!.GetValue<bool>(), third.ToJsonString());
        alerts = await DriftAlertsAsync(admin);
        Assert.Equal(2, alerts.Count);
        Assert.True(alerts[0]!["raisedAt"]!.GetValue<DateTimeOffset>() - alerts[1]!["raisedAt"]!.GetValue<DateTimeOffset>() >= Cooldown);
        Assert.True((await DeliveryAsync(alerts[0]!["id"]!.GetValue<string>())).SignatureValid);

        // That retraining beats the weak champion on the same held-out rows and is promoted, audited with its trigger.
        var promoted = await AuditAsync(admin, "model.promote", "Drift", 1);
        var better = int.Parse(promoted["target"]!.GetValue<string>().Split(":v")[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(better > weakVersion);
        Assert.Equal(better, await ChampionAsync(admin));
        Assert.Equal(2, await RunsAsync(RunTrigger.Drift, RunStatus.Finished));
        var served = await (await admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).ReadObjectAsync();
        Assert.Equal(better, served["modelVersion"]!.GetValue<int>());
    }

    /// <summary>
    /// Moves the clock past the check interval until the monitoring job has run once more, and returns that check's drift (null when the window held too few predictions).
    /// The job sets its next wait only after a check finishes, so an advance that came too early is repeated.
    /// </summary>
    private async Task<JsonObject?> NextCheckAsync(HttpClient admin, TimeSpan? advanceBy = null)
    {
        var before = (await SeriesAsync(admin, "system")).Count;
        for (var advance = 0; advance < 20; advance++)
        {
            server.Clock.Advance(advanceBy ?? CheckInterval);
            for (var poll = 0; poll < 100; poll++)
            {
                var series = await SeriesAsync(admin, "system");
                if (series.Count > before)
                {
                    var drift = await SeriesAsync(admin, "drift");
                    if (drift.Count == 0 || drift[^1]!["time"]!.GetValue<DateTimeOffset>() != series[^1]!["time"]!.GetValue<DateTimeOffset>())
                    {
                        return null;
                    }
                    var result = drift[^1]!["result"]!.AsObject();
                    var raised = JsonNode.Parse(await admin.GetStringAsync("/alerts"))!.AsArray()
                        .Where(a => a!["raisedAt"]!.GetValue<DateTimeOffset>() >= series[^1]!["time"]!.GetValue<DateTimeOffset>())
                        .Select(a => a!.DeepClone()).ToArray();
                    result["alerts"] = new JsonArray(raised);
                    return result;
                }
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException("The monitoring job did not run after the clock passed its interval.");
    }

    private async Task<JsonArray> SeriesAsync(HttpClient admin, string kind)
    {
        var from = Uri.EscapeDataString(server.Clock.GetUtcNow().AddDays(-1).ToString("O"));
        return JsonNode.Parse(await admin.GetStringAsync($"/monitoring/{kind}?from={from}"))!.AsArray();
    }

    private static async Task<List<JsonNode>> DriftAlertsAsync(HttpClient admin) =>
        [.. JsonNode.Parse(await admin.GetStringAsync("/alerts"))!.AsArray().Where(a => (string?)a!["kind"] == "drift").Select(a => a!)];

    private async Task<(string Body, bool SignatureValid)> DeliveryAsync(string alertId)
    {
        for (var i = 0; i < 200; i++)
        {
            if (server.Deliveries.FirstOrDefault(d => d.Body.Contains(alertId, StringComparison.Ordinal)) is { Body: not null } delivery)
            {
                return delivery;
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"Alert {alertId} was not delivered to the webhook.");
    }

    /// <summary>Waits for the <paramref name="count"/>-th audit entry of an action made by a retraining with the given trigger.</summary>
    private static async Task<JsonNode> AuditAsync(HttpClient admin, string action, string trigger, int count)
    {
        for (var i = 0; i < 1200; i++)
        {
            var entries = JsonNode.Parse(await admin.GetStringAsync($"/audit?action={action}"))!.AsArray()
                .Where(a => a!["details"]?.GetValue<string>().Contains($"\"trigger\":\"{trigger}\"", StringComparison.Ordinal) == true).ToList();
            if (entries.Count >= count)
            {
                return entries[0]!;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"No {action} audit entry from a {trigger} retraining.");
    }

    private static async Task PutConfigAsync(HttpClient admin, string body) =>
        (await admin.PutAsync("/config", Bodies.Json(body))).EnsureSuccessStatusCode();

    private static async Task<int> ChampionAsync(HttpClient admin) =>
        JsonNode.Parse(await admin.GetStringAsync("/models"))!.AsArray()
            .Single(v => v!["aliases"]!.AsArray().Any(a => (string?)a == "champion"))!["version"]!.GetValue<int>();

    private static async Task<List<string>> AliasesAsync(HttpClient admin, int version) =>
        [.. JsonNode.Parse(await admin.GetStringAsync($"/models/{version}"))!["version"]!["aliases"]!.AsArray().Select(a => a!.GetValue<string>())];

    private async Task<int> RunsAsync(RunTrigger trigger, RunStatus status)
    {
        await using var db = server.Factory.Store.CreateDbContext();
        return await db.Runs.CountAsync(r => r.Trigger == trigger && r.Status == status);
    }
}
