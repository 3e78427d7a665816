namespace Churn.Browser.Tests;

/// <summary>Time to churn on the dashboard, once a survival champion is served.</summary>
[Collection(DashboardCollection.Name)]
public sealed class SurvivalDashboardTests(DashboardFixture fixture)
{
    [Fact]
    public async Task AnalystSeesTheScoredCustomersHorizonRisksAndSurvivalCurve()
    {
        await fixture.EnsureSurvivalChampionAsync();
        await using var tab = await fixture.SignInAtAsync("ana", "/dashboard/predict");

        await tab.Page.ClickAsync("#score");

        await tab.Page.WaitForSelectorAsync("#survival-outlook", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var rows = await tab.Page.Locator("#survival-horizons tbody tr").AllInnerTextsAsync();
        Assert.Equal(["1", "3", "6", "12"], rows.Select(r => r.Split('\t')[0].Trim()));
        // Churn within a longer horizon is at least as likely as within a shorter one.
        var risks = rows.Select(r => double.Parse(r.Split('\t')[1].Split('%')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.All(risks, p => Assert.InRange(p, 0, 100));
        Assert.True(risks.Zip(risks.Skip(1)).All(p => p.First <= p.Second), string.Join(", ", risks));
        Assert.Contains("Expected time as a customer over the next 12", await tab.Page.InnerTextAsync("#expected-lifetime"), StringComparison.Ordinal);
        // One series, drawn as a line.
        await tab.Page.WaitForSelectorAsync("#survival-curve-chart svg path.mud-chart-line", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal(1, await tab.Page.Locator("#survival-curve-chart svg path.mud-chart-line").CountAsync());
        await tab.AssertChartsDrawnAsync();
        await tab.ScreenshotAsync("predict-survival", fullPage: true);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task PerformancePageShowsTheCIndexHorizonCalibrationAndKaplanMeierCurvesOfAChosenSegment()
    {
        var card = await fixture.EnsureSurvivalChampionAsync();
        await using var tab = await fixture.SignInAtAsync("admin", "/dashboard/performance");

        await tab.Page.WaitForSelectorAsync("#survival-panel", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Equal(card.Test.CIndex.ToString("0.000", CultureInfo.InvariantCulture), (await tab.Page.InnerTextAsync("#survival-cindex")).Trim());
        Assert.Equal(card.Test.IntegratedBrier.ToString("0.000", CultureInfo.InvariantCulture), (await tab.Page.InnerTextAsync("#survival-brier")).Trim());
        var calibration = await tab.Page.Locator("#survival-calibration tbody tr").AllInnerTextsAsync();
        Assert.Equal(card.Test.Calibration.Count, calibration.Count);
        Assert.Contains((card.Test.Calibration[^1].Observed * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%", calibration[^1], StringComparison.Ordinal);
        await tab.Page.WaitForSelectorAsync("#survival-calibration-chart svg");

        // The contract segment is shown first; choosing the region draws one curve per region instead.
        var contracts = card.Segments!.Columns.Single(c => c.Column == "contract").Levels.Select(l => l.Level).ToList();
        var legend = await tab.Page.InnerTextAsync("#km-chart");
        Assert.All(contracts, level => Assert.Contains(level, legend, StringComparison.Ordinal));
        Assert.Contains("All customers", legend, StringComparison.Ordinal);
        await tab.ChooseAsync("km-segment", "region");
        var region = card.Segments.Columns.Single(c => c.Column == "region").Levels;
        await tab.Page.WaitForSelectorAsync($"#km-chart :text('{region[0].Level}')", new PageWaitForSelectorOptions { Timeout = 15_000 });
        legend = await tab.Page.InnerTextAsync("#km-chart");
        Assert.All(region, level => Assert.Contains(level.Level, legend, StringComparison.Ordinal));
        Assert.DoesNotContain(contracts[0], legend, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{region[0].Level}: {region[0].Customers:N0} customers"), await tab.Page.InnerTextAsync("#km-levels"), StringComparison.Ordinal);
        // All customers and one line per region.
        Assert.Equal(region.Count + 1, await tab.Page.Locator("#km-chart svg path.mud-chart-line").CountAsync());
        await tab.AssertChartsDrawnAsync();
        await tab.ScreenshotAsync("performance-survival", fullPage: true);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task TheTimeToChurnSectionsFitAPhoneWidth()
    {
        await fixture.EnsureSurvivalChampionAsync();
        await using var tab = await fixture.SignInAsync("admin", 390, 844);

        await tab.GotoAsync("/dashboard/performance");
        await tab.Page.WaitForSelectorAsync("#km-chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var performance = await tab.Page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");
        await tab.ScreenshotAsync("performance-survival-phone", fullPage: true);
        await tab.GotoAsync("/dashboard/predict");
        await tab.Page.ClickAsync("#score");
        await tab.Page.WaitForSelectorAsync("#survival-curve-chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var predict = await tab.Page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");

        Assert.True(performance[0] <= performance[1], $"The performance page scrolls sideways: {performance[0]} > {performance[1]}.");
        Assert.True(predict[0] <= predict[1], $"The predict page scrolls sideways: {predict[0]} > {predict[1]}.");
        tab.AssertNoConsoleErrors();
    }
}
