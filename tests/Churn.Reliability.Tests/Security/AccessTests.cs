namespace Churn.Reliability.Tests.Security;

/// <summary>
/// Every operation of the OpenAPI document, with no key, a revoked key and each role. The table below says who may call
/// what; an operation missing from it fails the test, so a new endpoint cannot ship without deciding its roles.
/// Requests carry bodies that fail validation, so a caller who is let through changes nothing.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class AccessTests(SharedServer shared)
{
    private const string Anyone = "anonymous";
    private static readonly string[] Predict = ["admin", "analyst", "service"];
    private static readonly string[] Read = ["admin", "analyst", "viewer"];
    private static readonly string[] Admin = ["admin"];
    private static readonly string[] AnyRole = ["admin", "analyst", "service", "viewer"];
    private static readonly string[] Public = [Anyone, .. AnyRole];

    public static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["GET /health/live"] = Public,
        ["GET /health"] = Public,
        ["POST /feedback"] = ["admin", "service"],
        ["POST /retrain"] = Admin,
        ["GET /audit"] = Admin,
        ["POST /invocations"] = Predict,
        ["POST /predict"] = Predict,
        ["POST /predict/batch"] = Predict,
        ["GET /models"] = Read,
        ["GET /models/{version}"] = Read,
        ["POST /models/{version}/promote"] = Admin,
        ["POST /models/rollback"] = Admin,
        ["POST /jobs/score"] = Predict,
        ["GET /jobs/{id}"] = AnyRole,
        ["GET /jobs/{id}/result"] = AnyRole,
        ["GET /monitoring/drift"] = Read,
        ["GET /monitoring/quality"] = Read,
        ["GET /monitoring/shadow"] = Read,
        ["GET /monitoring/segments"] = Read,
        ["GET /monitoring/survival"] = Read,
        ["GET /monitoring/performance"] = Read,
        ["GET /monitoring/system"] = Read,
        ["POST /monitoring/run"] = Admin,
        ["GET /alerts"] = Read,
        ["POST /alerts/{id}/acknowledge"] = ["admin", "analyst"],
        ["GET /config"] = Read,
        ["PUT /config"] = Admin,
        ["POST /keys"] = Admin,
        ["GET /keys"] = Admin,
        ["DELETE /keys/{id}"] = Admin,
        ["GET /v2/health/live"] = Public,
        ["GET /v2/health/ready"] = Public,
        ["GET /v2/models/{name}"] = AnyRole,
        ["GET /v2/models/{name}/ready"] = AnyRole,
        ["POST /v2/models/{name}/infer"] = Predict,
        ["GET /metrics"] = Read,
        ["POST /campaigns"] = ["admin", "analyst"],
        ["GET /campaigns"] = Read,
        ["GET /campaigns/{id}"] = Read,
        ["POST /campaigns/{id}/assign"] = ["admin", "analyst"],
        ["GET /campaigns/{id}/contacts"] = Read,
        ["GET /campaigns/{id}/results"] = Read,
    };

    [Fact]
    public async Task EveryEndpointAdmitsExactlyItsRolesAndRefusesNoKeyAndRevokedKeysWithProblemDetails()
    {
        var undeclared = shared.Operations.Where(o => !Allowed.ContainsKey(o.Key)).Select(o => o.Key).ToList();
        Assert.True(undeclared.Count == 0, $"declare who may call: {string.Join(", ", undeclared)}");
        var wrong = new List<string>();
        var tried = 0;
        foreach (var operation in shared.Operations)
        {
            foreach (var who in new[] { "none", "revoked", "admin", "analyst", "service", "viewer" })
            {
                using var client = shared.ClientFor(who);
                using var request = InvalidRequest(operation);
                using var response = await client.SendAsync(request);
                tried++;
                var status = (int)response.StatusCode;
                var allowed = Allowed[operation.Key];
                var expected = allowed.Contains(Anyone) || allowed.Contains(who) ? "through" : who is "none" or "revoked" ? "401" : "403";
                var ok = expected switch
                {
                    "through" => status is not (401 or 403) and < 500,
                    "401" => status == 401 && response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                    _ => status == 403 && response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                };
                if (!ok)
                {
                    wrong.Add($"{operation} as {who}: expected {expected}, got {status}");
                }
            }
        }
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {tried} checks failed:\n{string.Join("\n", wrong)}");
    }

    /// <summary>A request to the operation that its validation refuses (or that finds nothing), so nothing changes.</summary>
    private static HttpRequestMessage InvalidRequest(Operation operation)
    {
        var path = ApiSurface.Fill(operation, p => p.Format switch
        {
            "uuid" => Guid.NewGuid().ToString(),
            "int32" or "int64" => "424242",
            _ => "churn",
        });
        if (operation.Key == "POST /monitoring/run")
        {
            path += "?from=not-a-time";
        }
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), path);
        if (operation.BodyTypes.Contains("application/json"))
        {
            request.Content = new StringContent("not json", Encoding.UTF8, "application/json");
        }
        else if (operation.BodyTypes.Count > 0)
        {
            request.Content = new StringContent("", Encoding.UTF8, "text/csv");
        }
        return request;
    }
}
