namespace Churn.Reliability.Tests.Security;

[Collection(ReliabilityCollection.Name)]
public sealed class SecretsAndAuditTests(SharedServer shared)
{
    [Fact]
    public async Task AKeyAppearsOnlyInTheResponseThatCreatedItNeverInLaterResponsesTheLogOrTheStore()
    {
        using var admin = shared.Server.Client();
        var name = $"secret-{Guid.NewGuid():N}";
        var creation = await admin.PostAsJsonAsync("/keys", new { name, role = "analyst" });
        var created = await creation.ReadObjectAsync();
        var secret = created["key"]!.GetValue<string>();
        var seen = new StringBuilder();

        using (var analyst = shared.Server.Client(secret))
        {
            foreach (var path in new[] { "/models", "/health", "/config", "/keys", "/audit", "/alerts", "/metrics", "/nowhere" })
            {
                await Record(seen, await analyst.GetAsync(path));
            }
            await Record(seen, await analyst.PostAsync("/predict", Bodies.Json(Bodies.Customer())));
            await Record(seen, await analyst.PostAsync("/predict", Bodies.Json("{\"broken\": ")));
            await Record(seen, await admin.GetAsync("/keys"));
            await Record(seen, await admin.GetAsync("/audit?limit=1000"));
            await Record(seen, await admin.DeleteAsync($"/keys/{created["id"]}"));
            await Record(seen, await analyst.GetAsync("/models"));
        }
        // The key is also tried where a key does not belong: in a query string and as a bearer token of the wrong scheme.
        using (var anonymous = shared.Server.Client(key: null))
        {
            await Record(seen, await anonymous.GetAsync($"/models?api_key={secret}"));
            using var bearer = new HttpRequestMessage(HttpMethod.Get, "/models");
            bearer.Headers.TryAddWithoutValidation("Authorization", $"Basic {secret}");
            await Record(seen, await anonymous.SendAsync(bearer));
        }

        Assert.Equal(HttpStatusCode.Created, creation.StatusCode);
        Assert.DoesNotContain(secret, seen.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, shared.Server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TestSecrets.AdminKey, shared.Server.Output, StringComparison.Ordinal);
        foreach (var file in Directory.EnumerateFiles(shared.Server.DataDir, "churn.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            Assert.DoesNotContain(secret, await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryChangeThroughTheApiWritesAnAuditEntryNamingWhoAndFromWhere()
    {
        using var admin = shared.Server.Client();
        var champion = (await admin.GetFromJsonAsync<JsonArray>("/models"))!.Single(m => m!["aliases"]!.AsArray().Any(a => (string?)a == "champion"))!["version"]!.GetValue<int>();
        var key = await SharedServer.CreateKeyAsync(admin, $"audited-{Guid.NewGuid():N}", "viewer");
        var campaign = await admin.PostAsJsonAsync("/campaigns", new
        {
            name = "audited",
            offer = "a call",
            costPerContact = 5,
            retainedValue = 100,
            eligibility = "probability-floor",
            probabilityFloor = 0.1,
        });
        var campaignId = JsonNode.Parse(await campaign.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        // Each change endpoint, called so that it succeeds, and the audit action it must leave.
        var changes = new List<(string Operation, Func<Task<HttpResponseMessage>> Call, string Action)>
        {
            ("POST /keys", () => admin.PostAsJsonAsync("/keys", new { name = $"audited-{Guid.NewGuid():N}", role = "viewer" }), "key.create"),
            ("DELETE /keys/{id}", () => admin.DeleteAsync($"/keys/{key.Id}"), "key.revoke"),
            ("PUT /config", () => admin.PutAsync("/config", Bodies.Json("""{"api": {"rate_limit": 1000000}}""")), "config.update"),
            ("POST /models/{version}/promote", () => admin.PostAsJsonAsync($"/models/{champion}/promote", new { reason = "audit check" }), "model.promote"),
            ("POST /models/rollback", () => admin.PostAsJsonAsync("/models/rollback", new { toVersion = champion, reason = "audit check" }), "model.rollback"),
            ("POST /retrain", () => admin.PostAsJsonAsync("/retrain", new { rows = 500, seed = 9 }), "model.retrain"),
            ("POST /campaigns", () => admin.PostAsJsonAsync("/campaigns", new
            {
                name = "audited too", offer = "a call", costPerContact = 5, retainedValue = 100, eligibility = "top-n", topN = 10,
            }), "campaign.create"),
            ("POST /campaigns/{id}/assign", () => admin.PostAsJsonAsync($"/campaigns/{campaignId}/assign", new
            {
                customers = new[] { new { customerId = "audited-1", churnProbability = 0.5 } },
            }), "campaign.assign"),
        };
        // Admin-only operations that are not changes of state the audit log is about.
        var notChanges = new[] { "POST /monitoring/run" };
        var adminWrites = shared.Operations.Where(o => o.Method != "GET" && AccessTests.Allowed[o.Key] is ["admin"]).Select(o => o.Key).ToList();
        Assert.Empty(adminWrites.Except(changes.Select(c => c.Operation)).Except(notChanges));

        foreach (var (operation, call, action) in changes)
        {
            var before = await LatestAuditIdAsync(admin);
            var response = await call();
            Assert.True(response.IsSuccessStatusCode, $"{operation}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var entries = (await admin.GetFromJsonAsync<JsonArray>("/audit?limit=50"))!.Where(a => a!["id"]!.GetValue<long>() > before).ToList();
            Assert.True(entries.Any(a => (string?)a!["action"] == action && (string?)a["actor"] == "admin" && (string?)a["clientAddress"] == "127.0.0.1"),
                $"{operation} left no '{action}' entry by admin from 127.0.0.1: {string.Join(", ", entries)}");
        }
    }

    [Fact]
    public async Task TheAuditLogCannotBeChangedOrDeletedThroughTheApi()
    {
        using var admin = shared.Server.Client();
        await SharedServer.CreateKeyAsync(admin, $"immutable-{Guid.NewGuid():N}", "viewer");
        var before = await admin.GetStringAsync("/audit?limit=1000");
        var id = JsonNode.Parse(before)!.AsArray()[0]!["id"]!.GetValue<long>();
        var refused = new List<string>();
        foreach (var path in new[] { "/audit", $"/audit/{id}", "/audit?limit=1" })
        {
            foreach (var method in new[] { "PUT", "PATCH", "DELETE", "POST" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Bodies.Json("""{"actor": "nobody", "action": "nothing"}""") };
                var status = (int)(await admin.SendAsync(request)).StatusCode;
                if (status is not (404 or 405))
                {
                    refused.Add($"{method} {path} -> {status}");
                }
            }
        }
        Assert.Empty(refused);
        var after = JsonNode.Parse(await admin.GetStringAsync("/audit?limit=1000"))!.AsArray();
        var earlier = JsonNode.Parse(before)!.AsArray();
        // Nothing changed except what the requests above might legitimately add (nothing, since all were refused).
        Assert.Equal(earlier.ToJsonString(), new JsonArray([.. after.Where(a => a!["id"]!.GetValue<long>() <= id).Select(a => a!.DeepClone())]).ToJsonString());
    }

    private static async Task<long> LatestAuditIdAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<JsonArray>("/audit?limit=1"))!.Select(a => a!["id"]!.GetValue<long>()).DefaultIfEmpty(0).Max();

    private static async Task Record(StringBuilder seen, HttpResponseMessage response)
    {
        seen.AppendLine(response.Headers.ToString()).AppendLine(response.Content.Headers.ToString()).AppendLine(await response.Content.ReadAsStringAsync());
    }
}
