using Churn.Data.Registry;
using Churn.Server.Jobs;
using Churn.Server.Models;

namespace Churn.Browser.Tests;

[Collection(DashboardCollection.Name)]
public sealed class MonitoringAndRegistryTests(DashboardFixture fixture)
{
    [Fact]
    public async Task DriftOverTimeQualityPerformanceAndLatencyAreDrawnOnceChecksHaveRun()
    {
        await fixture.EnsureMonitoringDataAsync();
        await using var tab = await fixture.SignInAtAsync("admin", "/dashboard/monitoring");
        // A second check from the page's own button, so the time series has two points.
        await tab.Page.ClickAsync("#run-check");
        await tab.Page.WaitForSelectorAsync("text=new alert(s)", new PageWaitForSelectorOptions { Timeout = 30_000 });

        foreach (var chart in new[] { "#drift-chart", "#drift-share-chart", "#performance-chart", "#latency-chart" })
        {
            await tab.Page.WaitForSelectorAsync($"{chart} svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        }
        await tab.AssertChartsDrawnAsync();
        // Two checks: the drift lines have (at least) two points each, one per check.
        Assert.True(await tab.Page.Locator("#drift-chart svg path").CountAsync() > 0);
        var qualityRows = await tab.Page.Locator("#quality-table tbody tr").CountAsync();
        Assert.True(qualityRows >= 2, $"The quality table has {qualityRows} window row(s), expected one per check (2 or more).");
        var qualityText = await tab.Page.InnerTextAsync("#quality-table");
        Assert.Contains("Duplicate ids", qualityText, StringComparison.Ordinal);
        Assert.Contains("Type violations", qualityText, StringComparison.Ordinal);
        Assert.True(await tab.Page.Locator("#drift-table tbody tr").CountAsync() > 5, "The latest drift check lists every feature.");
        // Outcomes were reported for every prediction, so realised metrics stand beside the estimate.
        Assert.Equal(0, await tab.Page.Locator("#no-realised").CountAsync());
        var legend = await tab.Page.InnerTextAsync("#performance");
        Assert.Contains("Realised F1", legend, StringComparison.Ordinal);
        Assert.Contains("Estimated F1", legend, StringComparison.Ordinal);
        await tab.ScreenshotAsync("monitoring", fullPage: true);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task TheSegmentSelectorRedrawsTheCalibrationChartForOneSegment()
    {
        await fixture.EnsureMonitoringDataAsync();
        await using var tab = await fixture.SignInAtAsync("vic", "/dashboard/monitoring");

        // All customers first: every prediction has an outcome, so observed against expected is drawn with its interval.
        await tab.Page.WaitForSelectorAsync("#calibration-chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var legend = await tab.Page.InnerTextAsync("#calibration");
        Assert.Contains("Observed / expected", legend, StringComparison.Ordinal);
        Assert.Contains("95 % high", legend, StringComparison.Ordinal);

        await tab.ChooseAsync("segment-select", "contract=Month-to-month");

        var summary = await tab.Page.WaitForSelectorAsync("#segment-summary", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("contract=Month-to-month", await summary!.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("features drifted", await summary.InnerTextAsync(), StringComparison.Ordinal);
        await tab.Page.WaitForSelectorAsync("#calibration-chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        await tab.AssertChartsDrawnAsync();
        await tab.ScreenshotAsync("monitoring-segment");
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task ViewerSeesAlertsWithoutAcknowledgeButtonAndAnAnalystAcknowledgesOne()
    {
        await fixture.EnsureMonitoringDataAsync();
        using var api = fixture.Api();
        var open = JsonNode.Parse(await api.GetStringAsync("/alerts?open=true"))!.AsArray();
        Assert.NotEmpty(open);
        var id = open[0]!["id"]!.GetValue<string>();

        await using (var viewer = await fixture.SignInAsync("vic"))
        {
            await viewer.GotoAsync("/dashboard/monitoring");
            await viewer.Page.WaitForSelectorAsync("#alerts-table");
            Assert.Contains("open", await viewer.Page.InnerTextAsync("#alerts-table"), StringComparison.Ordinal);
            Assert.Equal(0, await viewer.Page.Locator(".ack-button").CountAsync());
            viewer.AssertNoConsoleErrors();
        }

        await using var analyst = await fixture.SignInAsync("ana");
        await analyst.GotoAsync("/dashboard/monitoring");
        await analyst.Page.ClickAsync($"[id='ack-{id}']");
        var acknowledged = await analyst.Page.WaitForSelectorAsync($"[id='acked-{id}']", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("by ana", await acknowledged!.InnerTextAsync(), StringComparison.Ordinal);
        await analyst.ScreenshotAsync("monitoring-alerts");
        analyst.AssertNoConsoleErrors();

        // The same acknowledgement the API makes: visible there, and audited.
        var alerts = JsonNode.Parse(await api.GetStringAsync("/alerts"))!.AsArray();
        Assert.Equal("ana", alerts.Single(a => a!["id"]!.GetValue<string>() == id)!["acknowledgedBy"]!.GetValue<string>());
        var audit = await api.GetStringAsync("/audit?action=alert.acknowledge");
        Assert.Contains(id, audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminStartsARetrainFromTheRegistryAndWatchesItFinish()
    {
        var registry = fixture.App.Services.GetRequiredService<ModelRegistry>();
        var loader = fixture.App.Services.GetRequiredService<ModelLoader>();
        var before = (await registry.ListVersionsAsync(loader.ModelName)).Count;
        await using var tab = await fixture.SignInAtAsync("admin", "/dashboard/registry");
        await tab.Page.ClickAsync("#retrain");
        await tab.Page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Retrain" }).ClickAsync();

        // The job shows at once, queued or running with a progress bar; training takes seconds, far longer than a render.
        var status = await tab.Page.WaitForSelectorAsync("#retrain-status", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var first = await status!.InnerTextAsync();
        Assert.True(first is "Queued" or "Running", $"The job showed '{first}' right after it was started.");
        Assert.Equal(1, await tab.Page.Locator("#retrain-progress").CountAsync());
        await tab.ScreenshotAsync("registry-retraining");

        // The page polls the job board: without a reload the status turns to Succeeded and the new version is listed.
        await tab.Page.WaitForSelectorAsync("#retrain-status:text-is('Succeeded')", new PageWaitForSelectorOptions { Timeout = 180_000 });
        Assert.Equal(0, await tab.Page.Locator("#retrain-progress").CountAsync());
        var after = await registry.ListVersionsAsync(loader.ModelName);
        Assert.Equal(before + 1, after.Count);
        await tab.Page.WaitForSelectorAsync($"#versions-table >> text=v{after.Max(v => v.Version)}", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains(fixture.App.Services.GetRequiredService<JobBoard>().All, j => j.Kind == "retrain" && j.CreatedBy == "admin" && j.Status == JobStatus.Succeeded);
        await tab.ScreenshotAsync("registry", fullPage: true);
        tab.AssertNoConsoleErrors();
    }
}
