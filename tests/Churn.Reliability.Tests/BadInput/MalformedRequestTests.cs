using System.Collections.Concurrent;

namespace Churn.Reliability.Tests.BadInput;

[Collection(ReliabilityCollection.Name)]
public sealed class MalformedRequestTests(SharedServer shared, ITestOutputHelper output)
{
    /// <summary>
    /// Requests generated per operation; with the 35 operations of today's API that is over 5,000 requests, plus
    /// <see cref="MalformedRequests.PerProtocolOperation"/> protocol faults for each of the four scoring operations.
    /// </summary>
    private const int PerOperation = 160;

    [Fact]
    public async Task ThousandsOfMalformedRequestsToEveryEndpointGetProblemDetailsNamingTheFieldAndNeverAServerError()
    {
        var generator = new MalformedRequests(shared.Operations, seed: 20261124);
        var cases = generator.Generate(PerOperation).ToList();
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        using var admin = shared.Server.Client();

        // Four clients at once: enough to overlap requests on the server, few enough for a two-core machine.
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, ct) =>
        {
            using var message = request.ToMessage();
            using var response = await admin.SendAsync(message, ct);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            var problem = await ProblemOf(response, status);
            if (problem is not null)
            {
                failures.Enqueue($"{status} {request.Method} {request.Path.Split('?')[0]} [{request.Kind}]|{request} -> {status}: {problem}");
            }
        });

        using var anonymous = shared.Server.Client(key: null);
        var health = await anonymous.GetAsync("/health");
        var predict = await admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
        output.WriteLine($"{cases.Count} malformed requests over {shared.Operations.Count} operations; statuses: " +
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        foreach (var line in shared.Server.Output.Split('\n').Where(l => l.Contains("Exception", StringComparison.Ordinal)).Distinct().Take(30))
        {
            output.WriteLine(line);
        }
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} requests were answered badly, e.g.:\n" + string.Join("\n", failures.OrderByDescending(f => f[..3], StringComparer.Ordinal).GroupBy(f => f[..f.IndexOf('|', StringComparison.Ordinal)]).Select(g => g.First()[(g.Key.Length + 1)..]).Take(40)));
        Assert.True(cases.Count >= 5000 + 4 * MalformedRequests.PerProtocolOperation, $"only {cases.Count} cases were generated");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, predict.StatusCode);
        Assert.False(shared.Server.HasExited);
    }

    /// <summary>What is wrong with a response to a malformed request, or null when it is a proper answer.</summary>
    private static async Task<string?> ProblemOf(HttpResponseMessage response, int status)
    {
        if (status >= 500)
        {
            return "a server error";
        }
        if (status < 400)
        {
            return null;
        }
        var text = await response.Content.ReadAsStringAsync();
        if (status == 400 && text.Length == 0 && response.Content.Headers.ContentType is null && response.Headers.ConnectionClose == true)
        {
            // Kestrel refuses a request line it cannot parse (a NUL in the path) before any application code runs and
            // closes the connection; there is no endpoint to answer, so no ProblemDetails either.
            return null;
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"not ProblemDetails ({response.Content.Headers.ContentType?.MediaType}): {Cut(text)}";
        }
        JsonObject body;
        try
        {
            body = JsonNode.Parse(text)!.AsObject();
        }
        catch (JsonException)
        {
            return $"unreadable ProblemDetails: {Cut(text)}";
        }
        if (body["status"]?.GetValue<int>() != status || string.IsNullOrWhiteSpace(body["title"]?.GetValue<string>()))
        {
            return $"ProblemDetails without its status or title: {Cut(text)}";
        }
        // A request refused for its content must say which field (or which part of the body) is wrong.
        if (status is 400 or 422 && (body["errors"] is not JsonObject errors || errors.Count == 0 || errors.Any(e => string.IsNullOrWhiteSpace(e.Key))))
        {
            return $"no field named: {Cut(text)}";
        }
        return null;
    }

    private static string Cut(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
