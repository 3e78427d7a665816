using Churn.Core.Campaigns;
using Churn.Server.Campaigns;

namespace Churn.Server.Tests;

/// <summary>Retention campaigns through HTTP over the fixture's real SQLite store.</summary>
[Collection(ServerCollection.Name)]
public sealed class CampaignsTests(ServerFixture server)
{
    private static JsonObject NewCampaign(string name, double holdout = 0.1, string eligibility = "probability-floor") => new()
    {
        ["name"] = name,
        ["offer"] = "20 % off for three months",
        ["costPerContact"] = 10,
        ["retainedValue"] = 200,
        ["eligibility"] = eligibility,
        ["probabilityFloor"] = 0.2,
        ["holdoutShare"] = holdout,
        ["outcomeWindowDays"] = 30,
    };

    private static async Task<JsonObject> CreateAsync(HttpClient client, JsonObject body)
    {
        var response = await client.PostAsync("/campaigns", Bodies.Json(body));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    private static JsonObject Customers(IEnumerable<(string Id, double Probability, double? Uplift)> customers) => new()
    {
        ["customers"] = new JsonArray([.. customers.Select(c => (JsonNode)new JsonObject
        {
            ["customerId"] = c.Id,
            ["churnProbability"] = c.Probability,
            ["uplift"] = c.Uplift,
        })]),
    };

    [Fact]
    public async Task ACreatedCampaignIsListedFetchedAndAudited()
    {
        using var analyst = server.ClientFor("analyst");
        using var viewer = server.ClientFor("viewer");

        var created = await CreateAsync(analyst, NewCampaign("Winter save"));
        var id = created["id"]!.GetValue<string>();

        var fetched = await (await viewer.GetAsync($"/campaigns/{id}")).ReadObjectAsync();
        Assert.Equal("Winter save", fetched["name"]!.GetValue<string>());
        Assert.Equal(0.1, fetched["holdoutShare"]!.GetValue<double>());
        var list = JsonNode.Parse(await viewer.GetStringAsync("/campaigns"))!.AsArray();
        Assert.Contains(list, c => (string?)c!["id"] == id);
        await AssertAuditedAsync("campaign.create", id);
    }

    [Fact]
    public async Task TheHoldoutShareDefaultsToTenPercent()
    {
        using var analyst = server.ClientFor("analyst");
        var body = NewCampaign("Default holdout");
        body.Remove("holdoutShare");

        var created = await CreateAsync(analyst, body);

        Assert.Equal(0.1, created["holdoutShare"]!.GetValue<double>());
    }

    [Theory]
    [InlineData("name", "", "name")]
    [InlineData("holdoutShare", "2", "holdoutShare")]
    [InlineData("eligibility", "\"everyone\"", "eligibility")]
    [InlineData("costPerContact", "-5", "costPerContact")]
    [InlineData("probabilityFloor", "null", "probabilityFloor")]
    [InlineData("outcomeWindowDays", "0", "outcomeWindowDays")]
    public async Task BadCampaignFieldsAre422NamingTheField(string field, string json, string named)
    {
        using var analyst = server.ClientFor("analyst");
        var body = NewCampaign("Bad");
        body[field] = JsonNode.Parse(json == "" ? "\"\"" : json);

        var response = await analyst.PostAsync("/campaigns", Bodies.Json(body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.ReadObjectAsync();
        Assert.True(problem["errors"]!.AsObject().ContainsKey(named), problem.ToJsonString());
    }

    [Fact]
    public async Task AViewerCannotCreateOrAssign()
    {
        using var viewer = server.ClientFor("viewer");

        var response = await viewer.PostAsync("/campaigns", Bodies.Json(NewCampaign("Not allowed")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AssignmentIsRandomAtTheHoldoutShareStickyAndSeededPerCampaign()
    {
        using var analyst = server.ClientFor("analyst");
        var campaign = await CreateAsync(analyst, NewCampaign("Sticky", holdout: 0.25));
        var id = campaign["id"]!.GetValue<string>();
        var seed = campaign["seed"]!.GetValue<long>();
        var customers = Enumerable.Range(0, 2000).Select(i => ($"sticky-{i}", 0.5, (double?)null)).ToList();

        var first = await (await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers(customers)))).ReadObjectAsync();
        var again = await (await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers(customers)))).ReadObjectAsync();

        Assert.Equal(2000, first["assigned"]!.GetValue<int>());
        // 25 % of 2,000 is 500, with a binomial standard deviation of 19.4: four of them either side.
        Assert.InRange(first["holdout"]!.GetValue<int>(), 423, 577);
        Assert.Equal(0, again["assigned"]!.GetValue<int>());
        Assert.Equal(2000, again["alreadyAssigned"]!.GetValue<int>());
        var arms = first["customers"]!.AsArray().ToDictionary(c => (string)c!["customerId"]!, c => (string)c!["arm"]!);
        foreach (var c in again["customers"]!.AsArray())
        {
            Assert.Equal(arms[(string)c!["customerId"]!], (string)c["arm"]!);
        }
        Assert.All(arms, kv => Assert.Equal(HoldoutAssignment.ArmOf(seed, kv.Key, 0.25), kv.Value));
    }

    [Fact]
    public async Task ConcurrentAssignmentsOfTheSameCustomersAgreeOnTheirArms()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Concurrent", holdout: 0.5)))["id"]!.GetValue<string>();
        var customers = Customers(Enumerable.Range(0, 300).Select(i => ($"race-{i}", 0.5, (double?)null)));

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(customers))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.ReadObjectAsync()));
        Assert.Equal(300, bodies.Sum(b => b["assigned"]!.GetValue<int>()));
        var arms = bodies.SelectMany(b => b["customers"]!.AsArray()).GroupBy(c => (string)c!["customerId"]!);
        Assert.All(arms, g => Assert.Single(g.Select(c => (string)c!["arm"]!).Distinct()));
    }

    [Fact]
    public async Task CustomersBelowTheProbabilityFloorAreNotAssigned()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Floor")))["id"]!.GetValue<string>();

        var result = await (await analyst.PostAsync($"/campaigns/{id}/assign",
            Bodies.Json(Customers([("floor-low", 0.1, null), ("floor-high", 0.6, null)])))).ReadObjectAsync();

        Assert.Equal(1, result["assigned"]!.GetValue<int>());
        Assert.Equal(1, result["ineligible"]!.GetValue<int>());
        Assert.Equal("floor-high", result["customers"]![0]!["customerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task TopNEligibilityTakesTheCustomersWithTheMostToGain()
    {
        using var analyst = server.ClientFor("analyst");
        var body = NewCampaign("Top two", eligibility: "top-n");
        body["topN"] = 2;
        var id = (await CreateAsync(analyst, body))["id"]!.GetValue<string>();

        var result = await (await analyst.PostAsync($"/campaigns/{id}/assign",
            Bodies.Json(Customers([("top-a", 0.9, 0.01), ("top-b", 0.3, 0.2), ("top-c", 0.5, 0.1), ("top-d", 0.2, 0.05)])))).ReadObjectAsync();

        Assert.Equal(["top-b", "top-c"], result["customers"]!.AsArray().Select(c => (string)c!["customerId"]!).Order());
    }

    [Fact]
    public async Task BadAssignmentsAre422NamingTheCustomerField()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Bad assign")))["id"]!.GetValue<string>();

        var response = await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers([("ok", 0.5, null), ("bad", 1.5, null)])));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, "customers[1].churnProbability");
    }

    [Fact]
    public async Task CustomersSentWithFeaturesAreScoredByTheServingModelAndAssigned()
    {
        using var analyst = server.ClientFor("analyst");
        var body = NewCampaign("From features", holdout: 0.5);
        body["probabilityFloor"] = 0;
        var id = (await CreateAsync(analyst, body))["id"]!.GetValue<string>();
        var customers = GeneratedCustomers.Json(30, seed: 19);

        var response = await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(30, (await response.ReadObjectAsync())["assigned"]!.GetValue<int>());
        // The probability stored is the serving model's, the same /predict gives for those features.
        var list = await (await analyst.GetAsync($"/campaigns/{id}/contacts?contacts=30")).ReadObjectAsync();
        var contact = list["contacts"]![0]!;
        var customer = customers.Single(c => (string?)c["customerId"] == (string?)contact["customerId"]);
        var predicted = await (await analyst.PostAsync("/predict", Bodies.Json(customer.DeepClone()))).ReadObjectAsync();
        Assert.Equal(predicted["churnProbability"]!.GetValue<double>(), contact["churnProbability"]!.GetValue<double>(), 1e-9);
    }

    [Fact]
    public async Task FeaturesThatDoNotFitTheServingModelAre422NamingTheFieldAndAssignNobody()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Bad features")))["id"]!.GetValue<string>();
        var customers = GeneratedCustomers.Json(2, seed: 23);
        var features = customers[1]["features"]!.AsObject();
        var numeric = features.First(f => f.Value is JsonValue v && v.TryGetValue<double>(out _)).Key;
        features[numeric] = "many";

        var response = await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.ReadObjectAsync())["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key.StartsWith("customers[1].features", StringComparison.Ordinal) && e.Key.Contains(numeric, StringComparison.Ordinal));
        var results = await (await analyst.GetAsync($"/campaigns/{id}/results")).ReadObjectAsync();
        Assert.Equal(0, results["assigned"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnUnknownCampaignIs404Everywhere()
    {
        using var analyst = server.ClientFor("analyst");
        var missing = Guid.NewGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await analyst.GetAsync($"/campaigns/{missing}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await analyst.PostAsync($"/campaigns/{missing}/assign", Bodies.Json(Customers([("x", 0.5, null)])))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await analyst.GetAsync($"/campaigns/{missing}/contacts?budget=100")).StatusCode);
        var results = await analyst.GetAsync($"/campaigns/{missing}/results");
        results.AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheContactListRanksByUpliftTimesValueLeavesOutSleepingDogsAndTheHoldoutAndIsLogged()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Uplift list", holdout: 0.2)))["id"]!.GetValue<string>();
        var customers = Enumerable.Range(0, 200).Select(i => ($"up-{i}", 0.5, (double?)((i % 4) switch { 0 => -0.1, 1 => 0.3, 2 => 0.02, _ => 0.15 }))).ToList();
        var assigned = await (await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers(customers)))).ReadObjectAsync();
        var arms = assigned["customers"]!.AsArray().ToDictionary(c => (string)c!["customerId"]!, c => (string)c!["arm"]!);

        var list = await (await analyst.GetAsync($"/campaigns/{id}/contacts?budget=5000")).ReadObjectAsync();

        Assert.Equal("Uplift", list["ranking"]!.GetValue<string>());
        var contacts = list["contacts"]!.AsArray();
        Assert.True(contacts.Count is > 0 and <= 500);
        foreach (var c in contacts)
        {
            var customer = (string)c!["customerId"]!;
            Assert.Equal(CampaignArms.Treated, arms[customer]);
            Assert.True(c["uplift"]!.GetValue<double>() > 0);
        }
        // Expected profit: 0.3 × 200 − 10 = 50 first, then 0.15 × 200 − 10 = 20; 0.02 × 200 − 10 loses money.
        Assert.Equal(50, contacts[0]!["expectedProfit"]!.GetValue<double>(), 1e-6);
        Assert.DoesNotContain(contacts, c => c!["uplift"]!.GetValue<double>() < 0.1);
        Assert.True(list["leftOutNegativeUplift"]!.GetValue<int>() > 0);
        var csv = await analyst.GetAsync($"/campaigns/{id}/contacts?contacts=3&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal("rank,customer_id,churn_probability,uplift,expected_profit", lines[0]);
        Assert.Equal(4, lines.Length);
        await AssertAuditedAsync("campaign.contacts", id);
    }

    [Fact]
    public async Task WithoutUpliftTheContactListRanksByRiskAndSaysSo()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Risk list")))["id"]!.GetValue<string>();
        await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers(Enumerable.Range(0, 50).Select(i => ($"risk-{i}", 0.2 + i / 100.0, (double?)null)))));

        var list = await (await analyst.GetAsync($"/campaigns/{id}/contacts?contacts=5")).ReadObjectAsync();

        Assert.Equal("ChurnProbability", list["ranking"]!.GetValue<string>());
        Assert.Contains("No uplift estimates", list["note"]!.GetValue<string>(), StringComparison.Ordinal);
        var probabilities = list["contacts"]!.AsArray().Select(c => c!["churnProbability"]!.GetValue<double>()).ToList();
        Assert.Equal(probabilities.OrderDescending(), probabilities);
    }

    [Theory]
    [InlineData("budget=9.99", "budget")]
    [InlineData("budget=0", "budget")]
    [InlineData("", "budget")]
    [InlineData("contacts=0", "contacts")]
    [InlineData("contacts=2&format=xml", "format")]
    public async Task ABudgetBelowOneContactIsRefusedNamingTheField(string query, string field)
    {
        using var viewer = server.ClientFor("viewer");
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Small budget")))["id"]!.GetValue<string>();

        var response = await viewer.GetAsync($"/campaigns/{id}/contacts?{query}");

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, field);
    }

    [Fact]
    public async Task ResultsFromFeedbackCoverTheTrueEffectWithTheirInterval()
    {
        // Truth: 35 % of holdout customers churn within the window and 20 % of treated ones: an effect of −15 points.
        var results = await RunCampaignAsync("Measured", treatedChurn: 0.20, holdoutChurn: 0.35, seed: 21);

        var effect = results["readout"]!["effects"]![0]!;
        Assert.Equal("treated", effect["arm"]!.GetValue<string>());
        Assert.InRange(-0.15, effect["ciLow"]!.GetValue<double>(), effect["ciHigh"]!.GetValue<double>());
        Assert.True(effect["ciHigh"]!.GetValue<double>() < 0);
        Assert.True(results["impact"]!["retained"]!.GetValue<double>() > 0);
        Assert.False(results["impact"]!["harmful"]!.GetValue<bool>());
        Assert.True(results["readout"]!["sampleRatioP"]!.GetValue<double>() > 0.001);
    }

    [Fact]
    public async Task AHarmfulCampaignRaisesItsAlert()
    {
        // The published retention field experiment: 10.0 % of contacted customers left against 6.4 % of the control;
        // here the harm is larger so that 1,200 customers show it.
        var results = await RunCampaignAsync("Harmful", treatedChurn: 0.30, holdoutChurn: 0.10, seed: 22);

        Assert.True(results["impact"]!["harmful"]!.GetValue<bool>(), results.ToJsonString());
        var alerts = (await server.GetJsonAsync("viewer", "/alerts?limit=1000")).AsArray();
        Assert.Contains(alerts, a => (string?)a!["kind"] == $"campaign_harm:{results["campaignId"]}");
    }

    [Fact]
    public async Task TheCampaignWatchRaisesTheHarmAlertWithoutAnyoneReadingTheResults()
    {
        var (id, _) = await RunCampaignAsync("Watched", treatedChurn: 0.30, holdoutChurn: 0.10, seed: 23, readResults: false);
        var kind = $"campaign_harm:{id}";

        var checkedCampaigns = await server.Factory.Services.GetRequiredService<CampaignWatch>().CheckAsync(CancellationToken.None);

        Assert.Contains(Guid.Parse(id), checkedCampaigns);
        Assert.Contains((await server.GetJsonAsync("viewer", "/alerts?limit=1000")).AsArray(), a => (string?)a!["kind"] == kind);
    }

    [Fact]
    public async Task ResultsBeforeAnyOutcomeSayWhichArmLacksOne()
    {
        using var analyst = server.ClientFor("analyst");
        var id = (await CreateAsync(analyst, NewCampaign("Waiting")))["id"]!.GetValue<string>();
        await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers([("wait-1", 0.5, null)])));

        var results = await (await analyst.GetAsync($"/campaigns/{id}/results")).ReadObjectAsync();

        Assert.Null(results["readout"]);
        Assert.Equal(1, results["pending"]!.GetValue<int>());
        Assert.Contains("No outcome yet", results["note"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>Creates a campaign, assigns 1,200 customers with a 30 % holdout, feeds back outcomes with the given churn rates, reads the results.</summary>
    private async Task<JsonObject> RunCampaignAsync(string name, double treatedChurn, double holdoutChurn, int seed) =>
        (await RunCampaignAsync(name, treatedChurn, holdoutChurn, seed, readResults: true)).Results!;

    private async Task<(string Id, JsonObject? Results)> RunCampaignAsync(string name, double treatedChurn, double holdoutChurn, int seed, bool readResults)
    {
        using var analyst = server.ClientFor("analyst");
        using var admin = server.ClientFor("admin");
        // A fixed assignment seed as well as fixed outcome draws, so the interval's check is the same on every run.
        var body = NewCampaign(name, holdout: 0.3);
        body["seed"] = seed;
        var id = (await CreateAsync(analyst, body))["id"]!.GetValue<string>();
        var customers = Enumerable.Range(0, 1200).Select(i => ($"{name}-{i}", 0.5, (double?)null)).ToList();
        var assigned = await (await analyst.PostAsync($"/campaigns/{id}/assign", Bodies.Json(Customers(customers)))).ReadObjectAsync();
        var random = new Random(seed);
        var observed = DateTimeOffset.UtcNow.AddDays(10);
        foreach (var c in assigned["customers"]!.AsArray())
        {
            var rate = (string)c!["arm"]! == CampaignArms.Treated ? treatedChurn : holdoutChurn;
            var feedback = await admin.PostAsJsonAsync("/feedback", new { customerId = (string)c["customerId"]!, churned = random.NextDouble() < rate, observedAt = observed });
            Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        }
        if (!readResults)
        {
            return (id, null);
        }
        var response = await analyst.GetAsync($"/campaigns/{id}/results");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = await response.ReadObjectAsync();
        Assert.Equal(1200, results["withOutcome"]!.GetValue<int>());
        return (id, results);
    }

    /// <summary>Asserts the audit log holds an entry of <paramref name="action"/> on <paramref name="target"/>.</summary>
    private async Task AssertAuditedAsync(string action, string? target)
    {
        using var admin = server.ClientFor("admin");
        var audit = JsonNode.Parse(await admin.GetStringAsync($"/audit?limit=200&action={action}"))!.AsArray();
        Assert.Contains(audit, a => (string?)a!["target"] == target);
    }
}
