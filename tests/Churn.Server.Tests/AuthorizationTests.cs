namespace Churn.Server.Tests;

/// <summary>Every endpoint with no key, a revoked key and each role. Bodies that would change state are made invalid, so the check stops after authorization.</summary>
[Collection(ServerCollection.Name)]
public sealed class AuthorizationTests(ServerFixture server)
{
    public sealed record Endpoint(string Method, string Path, string? Body, string ContentType, string[] Allowed)
    {
        public override string ToString() => $"{Method} {Path}";
    }

    private const string Anyone = "anonymous";
    private static readonly string[] Predict = ["admin", "analyst", "service"];
    private static readonly string[] Feedback = ["admin", "service"];
    private static readonly string[] Read = ["admin", "analyst", "viewer"];
    private static readonly string[] Admin = ["admin"];
    private static readonly string[] Acknowledge = ["admin", "analyst"];
    private static readonly string[] AnyRole = ["admin", "analyst", "service", "viewer"];
    private static readonly string[] Public = [Anyone, "admin", "analyst", "service", "viewer"];

    private static readonly string Missing = Guid.NewGuid().ToString();

    public static readonly Endpoint[] Endpoints =
    [
        new("GET", "/health/live", null, "", Public),
        new("GET", "/health", null, "", Public),
        new("GET", "/openapi/v1.json", null, "", Public),
        new("POST", "/predict", Bodies.Customer().ToJsonString(), "application/json", Predict),
        new("POST", "/predict/batch", new JsonObject { ["customers"] = new JsonArray(Bodies.Customer()) }.ToJsonString(), "application/json", Predict),
        new("POST", "/feedback", """{"churned": "not yet"}""", "application/json", Feedback),
        new("GET", "/metrics", null, "", Read),
        new("GET", "/models", null, "", Read),
        new("GET", "/models/1", null, "", Read),
        new("POST", "/models/999/promote", null, "", Admin),
        new("POST", "/models/rollback", """{"toVersion": 999}""", "application/json", Admin),
        new("POST", "/retrain", """{"rows": 1}""", "application/json", Admin),
        new("GET", $"/jobs/{Missing}", null, "", AnyRole),
        new("GET", $"/jobs/{Missing}/result", null, "", AnyRole),
        new("POST", "/jobs/score", "", "text/csv", Predict),
        new("GET", "/config", null, "", Read),
        new("PUT", "/config", """{"api": {"rate_limit": -1}}""", "application/json", Admin),
        new("GET", "/keys", null, "", Admin),
        new("POST", "/keys", """{"name": "", "role": "nobody"}""", "application/json", Admin),
        new("DELETE", $"/keys/{Missing}", null, "", Admin),
        new("GET", "/audit", null, "", Admin),
        new("GET", "/monitoring/drift", null, "", Read),
        new("GET", "/monitoring/quality", null, "", Read),
        new("GET", "/monitoring/performance", null, "", Read),
        new("GET", "/monitoring/system", null, "", Read),
        new("POST", "/monitoring/run?from=not-a-time", null, "", Admin),
        new("GET", "/alerts", null, "", Read),
        new("POST", $"/alerts/{Missing}/acknowledge", null, "", Acknowledge),
        new("POST", "/invocations", """{"dataframe_records": []}""", "application/json", Predict),
        new("GET", "/v2/health/live", null, "", Public),
        new("GET", "/v2/health/ready", null, "", Public),
        new("GET", "/v2/models/churn", null, "", AnyRole),
        new("GET", "/v2/models/churn/ready", null, "", AnyRole),
        new("POST", "/v2/models/churn/infer", "{}", "application/json", Predict),
        new("POST", "/campaigns", """{"name": ""}""", "application/json", Acknowledge),
        new("GET", "/campaigns", null, "", Read),
        new("GET", $"/campaigns/{Missing}", null, "", Read),
        new("POST", $"/campaigns/{Missing}/assign", """{"customers": []}""", "application/json", Acknowledge),
        new("GET", $"/campaigns/{Missing}/contacts?budget=100", null, "", Read),
        new("GET", $"/campaigns/{Missing}/results", null, "", Read),
    ];

    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (var e = 0; e < Endpoints.Length; e++)
        {
            foreach (var who in new[] { "none", "revoked", "admin", "analyst", "service", "viewer" })
            {
                data.Add(e, who);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EachEndpointAdmitsExactlyTheRolesAllowedToUseIt(int endpoint, string who)
    {
        var e = Endpoints[endpoint];
        using var client = who switch
        {
            "none" => server.Client(),
            "revoked" => server.Client(server.RevokedKey),
            _ => server.ClientFor(who),
        };
        using var request = new HttpRequestMessage(new HttpMethod(e.Method), e.Path);
        if (e.Body is not null)
        {
            request.Content = new StringContent(e.Body, Encoding.UTF8, e.ContentType);
        }

        var response = await client.SendAsync(request);

        var status = (int)response.StatusCode;
        var anonymousAllowed = e.Allowed.Contains(Anyone);
        if (anonymousAllowed || e.Allowed.Contains(who))
        {
            Assert.True(status is not (401 or 403) and < 500, $"{e} as {who}: expected to be let through, got {status}");
        }
        else if (who is "none" or "revoked")
        {
            Assert.True(status == 401, $"{e} as {who}: expected 401, got {status}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        else
        {
            Assert.True(status == 403, $"{e} as {who}: expected 403, got {status}");
        }
    }

    [Fact]
    public async Task KeysOfEveryRoleUsedAtOnceEachKeepTheirOwnRole()
    {
        // A key's principal is built once and shared by its requests: many requests of four keys at once must each be
        // judged by their own key's role and named by their own key.
        string[] roles = ["admin", "analyst", "service", "viewer"];
        var clients = roles.ToDictionary(r => r, server.ClientFor);
        try
        {
            var sent = Enumerable.Range(0, 100).Select(async i =>
            {
                var role = roles[i % roles.Length];
                var response = await clients[role].GetAsync("/keys");
                return (Role: role, Status: (int)response.StatusCode, Body: JsonNode.Parse(await response.Content.ReadAsStringAsync()));
            });

            var answers = await Task.WhenAll(sent);

            foreach (var (role, status, body) in answers)
            {
                Assert.True(role == "admin" ? status == 200 : status == 403, $"GET /keys as {role}: {status}");
                if (role != "admin")
                {
                    Assert.Contains($"has role '{role}'", body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task AnonymousHealthShowsOnlyTheStatusAndAKeyShowsTheDetails()
    {
        using var anonymous = server.Client();
        using var viewer = server.ClientFor("viewer");

        var bare = await (await anonymous.GetAsync("/health")).ReadObjectAsync();
        var details = await (await viewer.GetAsync("/health")).ReadObjectAsync();

        Assert.Equal(["status"], bare.Select(p => p.Key));
        Assert.Equal("ready", bare["status"]!.GetValue<string>());
        Assert.True(details["modelLoaded"]!.GetValue<bool>());
        Assert.True(details["storeAvailable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ResponsesCarryTheSecurityHeaders()
    {
        using var client = server.Client();

        var response = await client.GetAsync("/health/live");

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyCreatedByAnAdminWorksUntilItIsRevokedAndBothChangesAreAudited()
    {
        using var admin = server.ClientFor("admin");
        var name = $"temp-{Guid.NewGuid():N}";
        var created = await (await admin.PostAsync("/keys", Bodies.Json($$"""{"name": "{{name}}", "role": "viewer"}"""))).ReadObjectAsync();
        using var viewer = server.Client(created["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/models")).StatusCode);

        var listed = JsonNode.Parse(await admin.GetStringAsync("/keys"))!.AsArray();
        Assert.DoesNotContain("hash", listed.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(created["key"]!.GetValue<string>(), listed.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/keys/{created["id"]}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/models")).StatusCode);
        var audit = JsonNode.Parse(await admin.GetStringAsync("/audit?limit=50"))!.AsArray();
        var id = created["id"]!.GetValue<string>();
        Assert.Contains(audit, a => (string?)a!["action"] == "key.create" && (string?)a["target"] == id && (string?)a["actor"] == "admin");
        Assert.Contains(audit, a => (string?)a!["action"] == "key.revoke" && (string?)a["target"] == id);
    }
}
