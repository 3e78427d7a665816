using System.Text.RegularExpressions;

namespace Churn.Reliability.Tests.Security;

/// <summary>The dashboard's sign-in, CSRF protection, security headers and request size limits.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed partial class WebSurfaceTests(SharedServer shared)
{
    public static readonly string[] DashboardPages =
        ["/", "/dashboard/predict", "/dashboard/performance", "/dashboard/monitoring", "/dashboard/registry", "/dashboard/config", "/dashboard/audit", "/dashboard/keys"];

    [Fact]
    public async Task EveryDashboardPageRedirectsToSignInWithoutACookieEvenWithAnApiKey()
    {
        foreach (var key in new[] { null, TestSecrets.AdminKey })
        {
            using var client = shared.Server.Client(key);
            foreach (var page in DashboardPages)
            {
                var response = await client.GetAsync(page);
                var status = (int)response.StatusCode;
                // An API key is not a dashboard login: either the login redirect or a plain refusal, never the page.
                Assert.True(status is 302 or 401 or 403, $"{page} with key {key is not null}: {status}");
                if (status == 302)
                {
                    Assert.StartsWith("/account/login", response.Headers.Location?.PathAndQuery ?? response.Headers.Location?.OriginalString, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public async Task SigningInWithoutTheAntiforgeryTokenIsRefusedAndWithItSucceeds()
    {
        using var client = shared.Server.Client(key: null);
        var form = new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["Input.UserName"] = "admin",
            ["Input.Password"] = TestSecrets.DashboardPassword,
        };

        var forged = await client.PostAsync("/account/login", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False(forged.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("churn.dashboard=", StringComparison.Ordinal)));

        // The same form with the token and cookie the login page hands out signs in: the refusal above was the missing token.
        var page = await client.GetAsync("/account/login");
        var html = await page.Content.ReadAsStringAsync();
        var token = TokenField().Match(html).Groups["token"].Value;
        var antiforgery = page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>(form) { ["__RequestVerificationToken"] = token }),
        };
        signIn.Headers.Add("Cookie", antiforgery);
        var signedIn = await client.SendAsync(signIn);
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("churn.dashboard=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ApiAndDashboardResponsesCarryTheSecurityHeaders()
    {
        using var anonymous = shared.Server.Client(key: null);
        using var admin = shared.Server.Client();
        var responses = new Dictionary<string, HttpResponseMessage>
        {
            ["GET /health/live"] = await anonymous.GetAsync("/health/live"),
            ["GET /models (401)"] = await anonymous.GetAsync("/models"),
            ["GET /models"] = await admin.GetAsync("/models"),
            ["POST /predict (422)"] = await admin.PostAsync("/predict", Bodies.Json("{}")),
            ["GET /account/login"] = await anonymous.GetAsync("/account/login"),
            ["GET / (redirect)"] = await anonymous.GetAsync("/"),
        };
        foreach (var (what, response) in responses)
        {
            // Exactly one value each: a second, different value (a framework adding its own) makes browsers ignore the header.
            Assert.Equal($"{what}: nosniff", $"{what}: {string.Join(" | ", response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) ? sniff : [])}");
            Assert.Equal($"{what}: DENY", $"{what}: {string.Join(" | ", response.Headers.TryGetValues("X-Frame-Options", out var frame) ? frame : [])}");
            Assert.Equal($"{what}: no-referrer", $"{what}: {string.Join(" | ", response.Headers.TryGetValues("Referrer-Policy", out var referrer) ? referrer : [])}");
            var policies = response.Headers.TryGetValues("Content-Security-Policy", out var csp) ? csp.ToList() : [];
            Assert.True(policies.Count == 1 && policies[0].Contains("frame-ancestors 'none'", StringComparison.Ordinal), $"{what}: {string.Join(" | ", policies)}");
        }
    }

    [Fact]
    public async Task BodiesOverTheLimitAreRefusedWith413ProblemDetailsOnEveryEndpointThatTakesOne()
    {
        using var admin = shared.Server.Client();
        var wrong = new List<string>();
        var json = "{\"customerId\": \"" + new string('x', 3 * 1024 * 1024) + "\"}";
        foreach (var operation in shared.Operations.Where(o => o.BodyTypes.Count > 0))
        {
            var path = ApiSurface.Fill(operation, p => p.Format == "uuid" ? Guid.NewGuid().ToString() : p.Format is "int32" ? "424242" : "churn");
            var csv = operation.BodyTypes.Contains("text/csv") && !operation.BodyTypes.Contains("application/json");
            // The CSV upload allows more than JSON: go past its own limit.
            var body = csv ? Bodies.Csv(1) + new string('z', (int)SharedServer.UploadLimit + 1024) : json;
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), path)
            {
                Content = new StringContent(body, Encoding.UTF8, csv ? "text/csv" : "application/json"),
            };
            // The client waits for the server's go-ahead, so a refusal arrives as a response instead of a connection
            // closed under a half-sent body.
            request.Headers.ExpectContinue = true;
            var response = await admin.SendAsync(request);
            if ((int)response.StatusCode != 413 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                wrong.Add($"{operation}: {(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType}");
            }
        }
        Assert.Empty(wrong);
        var small = await admin.PostAsync("/jobs/score", new StringContent(Bodies.Csv(50), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex TokenField();
}
