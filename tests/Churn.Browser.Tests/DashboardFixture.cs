using System.Net;
using System.Net.Sockets;
using Churn.Core.Generation;
using Churn.Data.Tracking;
using Churn.Server.Dashboard;
using Churn.Server.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Churn.Browser.Tests;

/// <summary>
/// A real server on a free loopback port, built by <see cref="Churn.Server.ChurnServer.Build"/> (what <c>churn serve</c>
/// runs) over a temporary SQLite store with a small trained champion and a second version to promote, plus one
/// dashboard user per role and Debian's Chromium driven by Playwright.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public const string Password = "correct-horse-battery";

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "churn-browser-tests", Guid.NewGuid().ToString("N"));

    public string BaseUrl { get; private set; } = "";

    public WebApplication App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? playwright;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: the browser tests drive Debian's Chromium. Run .ci/run (as root) or `apt-get install chromium`.");
        }
        BaseUrl = $"http://127.0.0.1:{FreePort()}";
        App = Server.ChurnServer.Build(
        [
            "--urls", BaseUrl,
            $"--Churn:DataDir={DataDir}",
            "--Churn:SampleRows=3000",
            "--Churn:WarmUpRows=20",
            "--Churn:Api:rate_limit=1000000",
            $"--Dashboard:AdminPassword={Password}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await App.StartAsync();
        var users = App.Services.GetRequiredService<DashboardUsers>();
        await users.CreateAsync("ana", Password, "analyst", CancellationToken.None);
        await users.CreateAsync("vic", Password, "viewer", CancellationToken.None);
        // A second version, so the registry has something to promote and the performance page something to compare.
        await App.Services.GetRequiredService<ModelTraining>().TrainAndRegisterAsync(new TrainingRequest(2000, 7, 0), RunTrigger.User, "browser tests", null, CancellationToken.None);

        Directory.CreateDirectory(ScreenshotDir);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        playwright?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A fresh browser context and page signed in as <paramref name="user"/>, recording console errors.</summary>
    public async Task<DashboardPage> SignInAsync(string user, int width = 1280, int height = 800)
    {
        var page = await OpenAsync(width, height);
        await page.Page.GotoAsync(BaseUrl + "/account/login");
        await page.Page.FillAsync("#username", user);
        await page.Page.FillAsync("#password", Password);
        await page.Page.ClickAsync("#sign-in");
        await page.Page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal));
        return page;
    }

    public async Task<DashboardPage> OpenAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, AcceptDownloads = true });
        return new DashboardPage(this, context, await context.NewPageAsync());
    }

    public static string Csv(int rows)
    {
        var writer = new StringWriter();
        new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = rows, Seed = 11 }, writer);
        return writer.ToString();
    }

    /// <summary>Copies the screenshots to docs/screenshots when CHURN_UPDATE_SCREENSHOTS=1 (kept out of ordinary runs so they leave the tree clean).</summary>
    public void PublishScreenshot(string file)
    {
        if (Environment.GetEnvironmentVariable("CHURN_UPDATE_SCREENSHOTS") != "1")
        {
            return;
        }
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Churn.slnx")))
        {
            dir = dir.Parent;
        }
        if (dir is not null)
        {
            var target = Path.Combine(dir.FullName, "docs", "screenshots");
            Directory.CreateDirectory(target);
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One signed-in browser tab and the errors its console reported.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly DashboardFixture fixture;
    private readonly IBrowserContext context;

    public DashboardPage(DashboardFixture fixture, IBrowserContext context, IPage page)
    {
        this.fixture = fixture;
        this.context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                ConsoleErrors.Add($"{page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => ConsoleErrors.Add($"{page.Url}: {error}");
    }

    public IPage Page { get; }

    public List<string> ConsoleErrors { get; } = [];

    /// <summary>Opens a dashboard path and waits until the circuit is connected (clicks are handled from then on).</summary>
    public async Task GotoAsync(string path)
    {
        await Page.GotoAsync(fixture.BaseUrl + path);
        await Page.WaitForSelectorAsync("#interactive", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    public async Task ScreenshotAsync(string name)
    {
        var file = Path.Combine(fixture.ScreenshotDir, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = file });
        fixture.PublishScreenshot(file);
    }

    /// <summary>Every chart container on the page holds a drawn chart (an svg or a canvas).</summary>
    public async Task AssertChartsDrawnAsync()
    {
        await Page.WaitForSelectorAsync(".chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        var charts = await Page.QuerySelectorAllAsync(".chart");
        Assert.NotEmpty(charts);
        foreach (var chart in charts)
        {
            Assert.True(await chart.QuerySelectorAsync("svg, canvas") is not null, $"The chart {await chart.GetAttributeAsync("id")} on {Page.Url} is not drawn.");
        }
    }

    public void AssertNoConsoleErrors() => Assert.True(ConsoleErrors.Count == 0, "The browser console reported errors:\n" + string.Join("\n", ConsoleErrors));

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}
