namespace Churn.Browser.Tests;

/// <summary>The Campaigns page in a real browser, for each role: who may create and assign, and what everyone may read.</summary>
[Collection(DashboardCollection.Name)]
public sealed class CampaignsPageTests(DashboardFixture fixture)
{
    [Fact]
    public async Task AnAnalystCreatesACampaignAssignsAScoredFileDownloadsTheContactListAndReadsTheResultsWithTheQiniCurve()
    {
        var name = $"Spring save {Guid.NewGuid():N}"[..24];
        await using var tab = await fixture.SignInAtAsync("ana", "/dashboard/campaigns");
        await tab.Page.FillAsync(Input("campaign-name"), name);
        await tab.Page.FillAsync(Input("campaign-offer"), "two months at half price");
        await tab.Page.FillAsync(Input("campaign-holdout"), "0.5");
        await tab.Page.Keyboard.PressAsync("Tab");
        await tab.Page.ClickAsync("#create-campaign-button");
        var detail = await tab.Page.WaitForSelectorAsync($"#campaign-detail >> text={name}", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.NotNull(detail);

        // A scored file: every customer above the page's default churn-probability floor (0.3); a quarter of them with a
        // negative uplift (contact would push them away).
        await tab.Page.SetInputFilesAsync("#assign-file", new FilePayload { Name = "scored.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(ScoredCsv()) });
        var message = await tab.Page.WaitForSelectorAsync("#assign-message:has-text('assigned')", new PageWaitForSelectorOptions { Timeout = 30_000 });
        Assert.StartsWith("200 assigned", await message!.InnerTextAsync(), StringComparison.Ordinal);

        await tab.Page.ClickAsync("#contact-list-button");
        await tab.Page.WaitForSelectorAsync("#contacts-table", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("left out for negative uplift", await tab.Page.InnerTextAsync("#contact-note"), StringComparison.Ordinal);
        var download = await tab.Page.RunAndWaitForDownloadAsync(() => tab.Page.ClickAsync("#download-contacts"));
        var file = Path.Combine(fixture.ScreenshotDir, "..", $"contacts-{Guid.NewGuid():N}.csv");
        await download.SaveAsAsync(file);
        var lines = await File.ReadAllLinesAsync(file);
        File.Delete(file);
        Assert.Equal("rank,customer_id,churn_probability,uplift,expected_profit", lines[0]);
        Assert.True(lines.Length > 1, "The contact list is empty.");
        Assert.All(lines.Skip(1), line => Assert.True(double.Parse(line.Split(',')[3], CultureInfo.InvariantCulture) > 0, line));

        // Outcomes come back through the API's feedback: contact keeps the customers with a positive uplift.
        await ReportOutcomesAsync(name);
        await tab.GotoAsync("/dashboard/campaigns");
        await tab.Page.ClickAsync($"#campaigns-table >> text={name}");
        await tab.Page.WaitForSelectorAsync("#results-table", new PageWaitForSelectorOptions { Timeout = 15_000 });
        await tab.Page.WaitForSelectorAsync("#qini-chart svg", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("Qini coefficient", await tab.Page.InnerTextAsync("#qini-figures"), StringComparison.Ordinal);
        Assert.Contains("200 with an outcome", await tab.Page.InnerTextAsync("#results-note"), StringComparison.Ordinal);
        await tab.AssertChartsDrawnAsync();
        await tab.ScreenshotAsync("campaigns", fullPage: true);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AViewerReadsCampaignsAndTheirContactListButMayNeitherCreateNorAssign()
    {
        var name = await CreateThroughApiAsync("Viewer check");
        await using var tab = await fixture.SignInAtAsync("vic", "/dashboard/campaigns");
        await tab.Page.WaitForSelectorAsync($"#campaigns-table >> text={name}");

        Assert.Equal(0, await tab.Page.Locator("#create-campaign").CountAsync());
        await tab.Page.ClickAsync($"#campaigns-table >> text={name}");
        await tab.Page.WaitForSelectorAsync("#campaign-detail");
        Assert.Equal(0, await tab.Page.Locator("#assign-file").CountAsync());
        await tab.Page.ClickAsync("#contact-list-button");
        // Nobody is assigned yet: the list is empty, and the page says how it was ranked.
        var note = await tab.Page.WaitForSelectorAsync("#contact-note", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Contains("No uplift estimates", await note!.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("No Qini curve yet", await tab.Page.InnerTextAsync("#qini-empty"), StringComparison.Ordinal);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AnAdminSeesTheCreateFormAndABadCampaignIsRefusedNamingItsFields()
    {
        await using var tab = await fixture.SignInAtAsync("admin", "/dashboard/campaigns");
        await tab.Page.WaitForSelectorAsync("#create-campaign");
        await tab.Page.FillAsync(Input("campaign-holdout"), "2");
        await tab.Page.Keyboard.PressAsync("Tab");

        await tab.Page.ClickAsync("#create-campaign-button");

        // Name and offer are empty and the holdout share is out of range: each field shows its own error, nothing is created.
        var form = tab.Page.Locator("#create-campaign");
        await form.Locator("text=is required: 1 to 200 characters").WaitForAsync(new LocatorWaitForOptions { Timeout = 15_000 });
        Assert.Equal(1, await form.Locator("text=must lie between 0.01 and 0.9").CountAsync());
        Assert.Equal(1, await form.Locator("text=describing what customers are offered").CountAsync());
        tab.AssertNoConsoleErrors();
    }

    /// <summary>The input of a MudBlazor field whose component carries <paramref name="id"/> (on the input or around it).</summary>
    private static string Input(string id) => $"input#{id}, #{id} input";

    private static string ScoredCsv()
    {
        var csv = new StringBuilder("customer_id,churn_probability,uplift,segment\n");
        for (var i = 0; i < 200; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"web-{i},{0.35 + i % 50 / 100.0},{Uplift(i)},{(i % 2 == 0 ? "north" : "south")}\n");
        }
        return csv.ToString();
    }

    private static double Uplift(int i) => i % 4 == 0 ? -0.1 : 0.05 + i % 3 / 10.0;

    private async Task<string> CreateThroughApiAsync(string prefix)
    {
        var name = $"{prefix} {Guid.NewGuid():N}"[..(prefix.Length + 9)];
        using var api = fixture.Api();
        var response = await api.PostAsync("/campaigns", Json(new JsonObject
        {
            ["name"] = name,
            ["offer"] = "a free month",
            ["costPerContact"] = 5,
            ["retainedValue"] = 100,
            ["eligibility"] = "probability-floor",
            ["probabilityFloor"] = 0.2,
        }));
        response.EnsureSuccessStatusCode();
        return name;
    }

    /// <summary>
    /// Reads each customer's arm back from the API (assignment is sticky, so assigning again returns it) and reports an
    /// outcome inside the window: treated customers with a positive uplift stay, the rest churn at their listed rate.
    /// </summary>
    private async Task ReportOutcomesAsync(string name)
    {
        using var api = fixture.Api();
        var campaigns = JsonNode.Parse(await api.GetStringAsync("/campaigns"))!.AsArray();
        var id = (string)campaigns.Single(c => (string?)c!["name"] == name)!["id"]!;
        var customers = new JsonArray([.. Enumerable.Range(0, 200).Select(i => (JsonNode)new JsonObject
        {
            ["customerId"] = $"web-{i}",
            ["churnProbability"] = 0.35 + i % 50 / 100.0,
        })]);
        var again = await api.PostAsync($"/campaigns/{id}/assign", Json(new JsonObject { ["customers"] = customers }));
        again.EnsureSuccessStatusCode();
        var arms = JsonNode.Parse(await again.Content.ReadAsStringAsync())!["customers"]!.AsArray();
        Assert.Equal(200, arms.Count);
        var random = new Random(3);
        foreach (var c in arms)
        {
            var i = int.Parse(((string)c!["customerId"]!)["web-".Length..], CultureInfo.InvariantCulture);
            var treated = (string)c["arm"]! == "treated";
            var churned = treated && Uplift(i) > 0 ? random.NextDouble() < 0.05 : random.NextDouble() < 0.35 + i % 50 / 100.0;
            var feedback = await api.PostAsync("/feedback", Json(new JsonObject
            {
                ["customerId"] = c["customerId"]!.GetValue<string>(),
                ["churned"] = churned,
                ["observedAt"] = DateTimeOffset.UtcNow.AddDays(5),
            }));
            feedback.EnsureSuccessStatusCode();
        }
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");
}
