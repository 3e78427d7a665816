using Churn.Server.Models;

namespace Churn.Browser.Tests;

[Collection(DashboardCollection.Name)]
public sealed class DashboardTests(DashboardFixture fixture)
{
    [Fact]
    public async Task FrameworkScriptsAndStylesAreServed()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        foreach (var path in new[] { "/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css", "/_content/MudBlazor/MudBlazor.min.js" })
        {
            var response = await http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}.");
        }
    }

    [Fact]
    public async Task ApiWithoutKeyStillAnswers401ProblemDetailsNotALoginRedirect()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(fixture.BaseUrl) };
        var response = await http.GetAsync("/models");
        response.AssertProblem(HttpStatusCode.Unauthorized);
        var dashboard = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        Assert.StartsWith("/account/login", dashboard.Headers.Location?.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPasswordIsRefusedWithAMessage()
    {
        await using var tab = await fixture.OpenAsync();
        await tab.Page.GotoAsync(fixture.BaseUrl + "/account/login");
        await tab.Page.FillAsync("#username", "admin");
        await tab.Page.FillAsync("#password", "not-the-password");
        await tab.Page.ClickAsync("#sign-in");
        Assert.Contains("not right", await tab.Page.InnerTextAsync("#login-error"), StringComparison.Ordinal);
        await tab.ScreenshotAsync("login");
        tab.AssertNoConsoleErrors();
    }

    [Theory]
    [InlineData("/", "overview", true)]
    [InlineData("/dashboard/performance", "performance", true)]
    [InlineData("/dashboard/monitoring", "", true)]
    [InlineData("/dashboard/registry", "", true)]
    [InlineData("/dashboard/config", "configuration", false)]
    [InlineData("/dashboard/audit", "audit", false)]
    [InlineData("/dashboard/keys", "keys", false)]
    [InlineData("/dashboard/predict", "predict", false)]
    [InlineData("/dashboard/campaigns", "campaigns", false)]
    public async Task AdminOpensEveryPageAndItsChartsAreDrawn(string path, string name, bool hasCharts)
    {
        await using var tab = await fixture.SignInAtAsync("admin", path);
        if (hasCharts)
        {
            await tab.AssertChartsDrawnAsync();
        }
        // Monitoring and registry are photographed by their own tests, once they hold checks and a retraining.
        if (name.Length > 0)
        {
            await tab.ScreenshotAsync(name);
        }
        tab.AssertNoConsoleErrors();
    }

    /// <summary>
    /// Every page at a phone's width (390×844): nothing scrolls sideways, the menu button opens the navigation drawer and
    /// its links work. Saves a phone screenshot of each page.
    /// </summary>
    [Fact]
    public async Task EveryPageFitsAPhoneWidthAndTheMenuOpensTheNavigation()
    {
        // With monitoring results, so the widest tables (drift, quality) are on the page too.
        await fixture.EnsureMonitoringDataAsync();
        await using var tab = await fixture.SignInAsync("admin", 390, 844);
        var pages = new[]
        {
            ("/", "overview"), ("/dashboard/predict", "predict"), ("/dashboard/performance", "performance"), ("/dashboard/monitoring", "monitoring"),
            ("/dashboard/registry", "registry"), ("/dashboard/config", "configuration"), ("/dashboard/audit", "audit"), ("/dashboard/keys", "keys"), ("/dashboard/users", "users"),
        };
        var overflowing = new List<string>();
        foreach (var (path, name) in pages)
        {
            await tab.GotoAsync(path);
            await tab.Page.WaitForSelectorAsync("h1, .mud-typography-h5");
            var widths = await tab.Page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");
            var (scroll, inner) = (widths[0], widths[1]);
            if (scroll > inner)
            {
                overflowing.Add($"{path}: scrollWidth {scroll} > innerWidth {inner}");
            }
            await tab.ScreenshotAsync($"{name}-phone");
        }
        Assert.True(overflowing.Count == 0, "Pages scroll sideways at phone width:\n" + string.Join("\n", overflowing));

        await tab.GotoAsync("/");
        // A click that lands while the page is still wiring its handlers leaves the drawer shut: click until it opens.
        for (var attempt = 1; ; attempt++)
        {
            await tab.Page.ClickAsync("[aria-label=menu]");
            try
            {
                await tab.Page.WaitForSelectorAsync(".mud-drawer.mud-drawer--open", new PageWaitForSelectorOptions { Timeout = 10_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
        var registryLink = tab.Page.Locator(".mud-drawer a[href='/dashboard/registry']");
        await registryLink.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        await tab.ScreenshotAsync("navigation-phone");
        await registryLink.ClickAsync();
        await tab.Page.WaitForURLAsync(url => url.EndsWith("/dashboard/registry", StringComparison.Ordinal));
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AnalystScoresACustomerAndSeesTheReasonsChart()
    {
        await using var tab = await fixture.SignInAtAsync("ana", "/dashboard/predict");
        await tab.Page.ClickAsync("#score");
        var probability = await tab.Page.WaitForSelectorAsync("#probability", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("Churn probability", await probability!.InnerTextAsync(), StringComparison.Ordinal);
        await tab.AssertChartsDrawnAsync();
        // The waterfall runs from the base value through one bar per large contribution to the prediction.
        Assert.NotEmpty(await tab.Page.QuerySelectorAllAsync("#waterfall .waterfall-step"));
        // An SVG text element has no innerText (it is not an HTML element); its text content is what is drawn.
        Assert.Contains("prediction", await tab.Page.Locator("#waterfall-end").TextContentAsync() ?? "", StringComparison.Ordinal);
        await tab.ScreenshotAsync("predict-result");
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AnalystUploadsACsvAndDownloadsTheScoredFile()
    {
        await using var tab = await fixture.SignInAtAsync("ana", "/dashboard/predict");
        await tab.Page.SetInputFilesAsync("#csv-file", new FilePayload { Name = "customers.csv", MimeType = "text/csv", Buffer = System.Text.Encoding.UTF8.GetBytes(DashboardFixture.Csv(50)) });
        await tab.Page.WaitForSelectorAsync("#download-result", new PageWaitForSelectorOptions { Timeout = 60_000 });
        // The finished job says how fast it went.
        Assert.Matches(@"^Succeeded: Scored 50 rows with v\d+\. [\d,]+ rows/s\.$", (await tab.Page.InnerTextAsync("#job-status")).Trim());
        var download = await tab.Page.RunAndWaitForDownloadAsync(() => tab.Page.ClickAsync("#download-result"));
        var file = Path.Combine(fixture.ScreenshotDir, "..", "downloaded-scores.csv");
        await download.SaveAsAsync(file);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.StartsWith("row,customerId,churnProbability", lines[0], StringComparison.Ordinal);
        Assert.Equal(51, lines.Length);
        await tab.ScreenshotAsync("predict-upload");
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AdminPromotesAVersionAfterConfirming()
    {
        var host = fixture.App.Services.GetRequiredService<ModelHost>();
        var target = host.Require().Version == 1 ? 2 : 1;
        await using var tab = await fixture.SignInAtAsync("admin", "/dashboard/registry");
        await tab.Page.ClickAsync($"#promote-{target}");
        await tab.Page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Promote" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync($"text=v{target} is now the champion", new PageWaitForSelectorOptions { Timeout = 30_000 });
        Assert.Equal(target, host.Require().Version);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task ViewerIsRefusedAdminAndPredictPagesAndSeesNoPromoteButton()
    {
        await using var tab = await fixture.SignInAsync("vic");
        foreach (var path in new[] { "/dashboard/config", "/dashboard/keys", "/dashboard/predict" })
        {
            await tab.Page.GotoAsync(fixture.BaseUrl + path);
            Assert.Contains("/account/denied", tab.Page.Url, StringComparison.Ordinal);
        }
        await tab.ScreenshotAsync("denied");
        await tab.GotoAsync("/dashboard/registry");
        await tab.AssertChartsDrawnAsync();
        Assert.Equal(0, await tab.Page.Locator("[id^=promote-]").CountAsync());
        Assert.Equal(0, await tab.Page.Locator("#rollback").CountAsync());
        // The retraining panel is there to read, its "Retrain now" button is not.
        await tab.Page.WaitForSelectorAsync("#retraining");
        Assert.Equal(0, await tab.Page.Locator("#retrain").CountAsync());
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task LoggingOutEndsTheSession()
    {
        await using var tab = await fixture.SignInAtAsync("vic", "/");
        await tab.Page.ClickAsync("#logout");
        await tab.Page.WaitForURLAsync(url => url.Contains("/account/login", StringComparison.Ordinal));
        await tab.Page.GotoAsync(fixture.BaseUrl + "/dashboard/registry");
        Assert.Contains("/account/login", tab.Page.Url, StringComparison.Ordinal);
        tab.AssertNoConsoleErrors();
    }
}
