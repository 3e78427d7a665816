namespace Churn.Reliability.Tests.Fixtures;

/// <summary>One operation of the API as the server's own OpenAPI document describes it.</summary>
public sealed record Operation(string Method, string Template, IReadOnlyList<Parameter> Parameters, IReadOnlyList<string> BodyTypes)
{
    public string Key => $"{Method} {Template}";

    public IEnumerable<Parameter> PathParameters => Parameters.Where(p => p.In == "path");

    public IEnumerable<Parameter> QueryParameters => Parameters.Where(p => p.In == "query");

    public override string ToString() => Key;
}

public sealed record Parameter(string Name, string In, string? Type, string? Format);

/// <summary>
/// The endpoint table, read from <c>GET /openapi/v1.json</c> at test time so an endpoint added later is covered by
/// the suites without anyone remembering to list it. <c>/metrics</c> (mapped by the Prometheus exporter, outside the
/// document) is added by hand.
/// </summary>
public static class ApiSurface
{
    public static async Task<IReadOnlyList<Operation>> ReadAsync(HttpClient client)
    {
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var operations = new List<Operation>();
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description")
                {
                    continue;
                }
                var parameters = (operation!["parameters"]?.AsArray() ?? []).Select(p => new Parameter(
                    p!["name"]!.GetValue<string>(),
                    p["in"]!.GetValue<string>(),
                    p["schema"]?["type"] is JsonArray types ? string.Join('|', types.Select(t => t!.GetValue<string>())) : p["schema"]?["type"]?.GetValue<string>(),
                    p["schema"]?["format"]?.GetValue<string>())).ToList();
                var bodyTypes = operation["requestBody"]?["content"]?.AsObject().Select(c => c.Key).ToList() ?? [];
                operations.Add(new Operation(method.ToUpperInvariant(), template, parameters, bodyTypes));
            }
        }
        operations.Add(new Operation("GET", "/metrics", [], []));
        return operations;
    }

    /// <summary>The template with each path parameter replaced by <paramref name="value"/> (already URL-safe).</summary>
    public static string Fill(Operation operation, Func<Parameter, string> value)
    {
        var path = operation.Template;
        foreach (var parameter in operation.PathParameters)
        {
            path = path.Replace($"{{{parameter.Name}}}", value(parameter), StringComparison.Ordinal);
        }
        return path;
    }
}
