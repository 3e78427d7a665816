using Churn.Core.Generation;
using Churn.Core.Survival;
using Churn.Data.Tracking;
using Churn.Server.Dashboard;
using Churn.Server.Models;
using Churn.Server.Survival;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;

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
    /// <summary>Failed sign-ins from one address before it is locked out; above what the other tests fail together (6).</summary>
    public const int FailuresPerAddress = 10;

    private readonly StoreDirectory dataDir = new("churn-browser");

    public string DataDir => dataDir.Path;

    public string BaseUrl { get; private set; } = "";

    public WebApplication App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? playwright;
    private readonly SemaphoreSlim monitoringGate = new(1, 1);
    private bool monitoringReady;
    private readonly SemaphoreSlim survivalGate = new(1, 1);
    private SurvivalCard? survivalCard;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: the browser tests drive Debian's Chromium. Run .ci/run (as root) or `apt-get install chromium`.");
        }
        BaseUrl = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        App = Server.ChurnServer.Build(
        [
            "--urls", BaseUrl,
            $"--Churn:DataDir={DataDir}",
            "--Churn:SampleRows=3000",
            "--Churn:WarmUpRows=20", "--Churn:RequestWarmUpSeconds=0",
            "--Churn:Api:rate_limit=1000000",
            $"--Dashboard:AdminPassword={Password}",
            $"--Churn:AdminKey={TestSecrets.AdminKey}",
            $"--Dashboard:FailuresPerAddress={FailuresPerAddress}",
            // Every check raises a latency alert (something to acknowledge); drift and performance never alert, so no
            // automatic retraining starts behind the tests' backs.
            "--Churn:Monitoring:latency_p99_ms=0.001",
            "--Churn:Model:drift_threshold=1",
            "--Churn:Model:retraining_threshold=1",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await App.StartAsync();
        var users = App.Services.GetRequiredService<DashboardUsers>();
        await users.CreateAsync("ana", Password, "analyst", CancellationToken.None);
        await users.CreateAsync("vic", Password, "viewer", CancellationToken.None);
        // A second version, so the registry has something to promote and the performance page something to compare.
        await App.Services.GetRequiredService<SampleTrainer>().TrainAndRegisterAsync(new Churn.Data.Retraining.GeneratedSample(2000, 7, 0), RunTrigger.User, "browser tests", null, CancellationToken.None);

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
        dataDir.Dispose();
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

    /// <summary>A fresh page signed in as <paramref name="user"/> at <paramref name="path"/>, once the page is interactive.</summary>
    public async Task<DashboardPage> SignInAtAsync(string user, string path)
    {
        var page = await SignInAsync(user);
        await page.GotoAsync(path);
        return page;
    }

    public async Task<DashboardPage> OpenAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, AcceptDownloads = true });
        return new DashboardPage(this, context, await context.NewPageAsync());
    }

    public static string Csv(int rows) => GeneratedCustomers.Csv(rows, seed: 11);

    /// <summary>Copies the screenshots to docs/screenshots when CHURN_UPDATE_SCREENSHOTS=1 (kept out of ordinary runs so they leave the tree clean).</summary>
    public void PublishScreenshot(string file)
    {
        if (Environment.GetEnvironmentVariable("CHURN_UPDATE_SCREENSHOTS") != "1")
        {
            return;
        }
        if (RepositoryRoot.Find() is { } root)
        {
            var target = Path.Combine(root, "docs", "screenshots");
            Directory.CreateDirectory(target);
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }

    /// <summary>An HTTP client for the API, authenticated with the admin key.</summary>
    public HttpClient Api()
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Add("X-API-Key", TestSecrets.AdminKey);
        return client;
    }

    /// <summary>
    /// Once per fixture: scores 150 generated customers through POST /predict/batch, reports their true outcomes through
    /// POST /feedback, and runs a monitoring check through POST /monitoring/run, so the monitoring page has a drift,
    /// quality, performance and latency point and an open latency alert.
    /// </summary>
    public async Task EnsureMonitoringDataAsync()
    {
        await monitoringGate.WaitAsync();
        try
        {
            if (monitoringReady)
            {
                return;
            }
            using var api = Api();
            var options = new GeneratorOptions { Rows = 150, Seed = 21 };
            var generator = new CustomerGenerator();
            var schema = CustomerGenerator.Schema;
            var rows = generator.Rows(options).ToList();
            var ids = new List<(string Id, bool Churned)>();
            foreach (var chunk in rows.Chunk(75))
            {
                var customers = new JsonArray();
                foreach (var cells in chunk)
                {
                    customers.Add(GeneratedCustomers.Json(cells));
                }
                var response = await api.PostAsync("/predict/batch", Json(new JsonObject { ["customers"] = customers }));
                response.EnsureSuccessStatusCode();
                var predictions = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["predictions"]!.AsArray();
                ids.AddRange(predictions.Select((p, i) => (p!["predictionId"]!.GetValue<string>(), chunk[i][^1] == schema.PositiveLabel)));
            }
            // The log writer stores predictions in the background; feedback needs them stored to join on.
            var last = Guid.Parse(ids[^1].Id);
            for (var attempt = 0; attempt < 400; attempt++)
            {
                await using var db = App.Services.GetRequiredService<Data.Store.StoreFactory>().CreateDbContext();
                if (await db.PredictionLog.AnyAsync(p => p.Id == last))
                {
                    break;
                }
                await Task.Delay(25);
            }
            foreach (var (id, churned) in ids)
            {
                (await api.PostAsync("/feedback", Json(new JsonObject { ["predictionId"] = id, ["churned"] = churned }))).EnsureSuccessStatusCode();
            }
            // Segments by contract, so the page's segment selector has segments to offer.
            (await api.PutAsync("/config", Json(new JsonObject { ["monitoring"] = new JsonObject { ["segments"] = "contract" } }))).EnsureSuccessStatusCode();
            (await api.PostAsync("/monitoring/run", null)).EnsureSuccessStatusCode();
            monitoringReady = true;
        }
        finally
        {
            monitoringGate.Release();
        }
    }

    /// <summary>
    /// Once per fixture: trains a survival model on generated customers (tenure as the duration), registers it as the
    /// survival champion and waits until the server serves it, so the Predict and Model performance pages show time to churn.
    /// Returns the registered version's card.
    /// </summary>
    public async Task<SurvivalCard> EnsureSurvivalChampionAsync()
    {
        await survivalGate.WaitAsync();
        try
        {
            if (survivalCard is null)
            {
                var model = GeneratedSurvival.Train(rows: 2000, seed: 5);
                await GeneratedSurvival.RegisterChampionAsync(App.Services, DataDir, model, "browser tests");
                survivalCard = model.Card;
            }
            // The server follows the survival champion's alias on its poll interval.
            var host = App.Services.GetRequiredService<SurvivalHost>();
            for (var attempt = 0; host.Current is null && attempt < 300; attempt++)
            {
                await Task.Delay(100);
            }
            Assert.True(host.Current is not null, "The server did not pick up the survival champion within 30 s.");
            return survivalCard;
        }
        finally
        {
            survivalGate.Release();
        }
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
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

    /// <summary>
    /// Opens a dashboard path and waits until the circuit is connected (clicks are handled from then on). On two cores
    /// shared with every other suite a first circuit has taken over 30 s, and a circuit whose start fails is not retried
    /// by the page. So after 45 s the page is loaded again, as a user would, once; the errors the first try logged are kept
    /// in the message if the second fails too, and are not counted as the page's own console errors. Twice in CI a page
    /// "never connected" because it had been redirected to the not-allowed page (see <see cref="ChooseAsync"/>); a
    /// redirect to <c>/account/...</c> now fails at once and names where the browser ended up.
    /// </summary>
    public async Task GotoAsync(string path)
    {
        await Page.GotoAsync(fixture.BaseUrl + path);
        // A page the user may not open redirects to the sign-in or the not-allowed page, which never start a circuit:
        // say so at once, with where the browser ended up, rather than waiting for a circuit that cannot come.
        if (new Uri(Page.Url).AbsolutePath.StartsWith("/account/", StringComparison.Ordinal) && !path.StartsWith("/account/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} was redirected to {Page.Url}: {await Page.InnerTextAsync("body")}");
        }
        if (await IsInteractiveWithinAsync(45_000))
        {
            return;
        }
        var firstTry = ConsoleErrors.ToList();
        ConsoleErrors.Clear();
        await Page.ReloadAsync();
        if (!await IsInteractiveWithinAsync(60_000))
        {
            throw new TimeoutException(
                $"{path} did not become interactive after a reload (45 s, then 60 s). Console errors of the first try:\n"
                + string.Join("\n", firstTry) + "\nof the second:\n" + string.Join("\n", ConsoleErrors));
        }
    }

    /// <summary>
    /// Picks <paramref name="option"/> in the MudSelect whose input has the id <paramref name="selectId"/>, and waits
    /// until the server has rendered it as the select's value. The choice travels over the circuit as a click whose
    /// handler awaits the browser before it sets the value, so a click on another control straight after it can be
    /// handled first (on a loaded machine, a user was once created with the default role instead of the one picked).
    /// </summary>
    public async Task ChooseAsync(string selectId, string option)
    {
        await Page.ClickAsync($".mud-select:has(#{selectId})");
        await Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = option }).ClickAsync();
        await Page.WaitForSelectorAsync($"input#{selectId}[value='{option}']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 15_000 });
    }

    private async Task<bool> IsInteractiveWithinAsync(float milliseconds)
    {
        try
        {
            await Page.WaitForSelectorAsync("#interactive", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = milliseconds });
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Saves a screenshot of the viewport, or of the whole page when <paramref name="fullPage"/> is set (long pages).</summary>
    public async Task ScreenshotAsync(string name, bool fullPage = false)
    {
        var file = Path.Combine(fixture.ScreenshotDir, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = fullPage });
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
