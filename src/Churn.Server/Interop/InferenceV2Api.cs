using System.Text.Json;
using System.Text.Json.Serialization;
using Churn.Core.Schema;
using Churn.Server.Errors;
using Churn.Server.Hosting;
using Churn.Server.Models;
using Churn.Server.Predictions;
using Churn.Server.Security;
using Churn.Server.Settings;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Churn.Server.Interop;

public sealed record V2Live([property: JsonPropertyName("live")] bool Live);

public sealed record V2Ready([property: JsonPropertyName("ready")] bool Ready);

public sealed record V2ModelReady([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("ready")] bool Ready);

public sealed record V2TensorMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape);

public sealed record V2ModelMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<V2TensorMetadata> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<V2TensorMetadata> Outputs);

public sealed record V2Tensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape,
    [property: JsonPropertyName("data")] IReadOnlyList<object> Data);

public sealed record V2InferResponse(
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonPropertyName("outputs")] IReadOnlyList<V2Tensor> Outputs);

/// <summary>
/// The Open Inference Protocol V2 (KServe, Triton, Seldon): one input tensor per feature column, BYTES for categories
/// and FP64 (or any numeric type, or BOOL) for numbers and flags; rows are scored exactly as by <c>/predict</c>.
/// </summary>
public static class InferenceV2Api
{
    public static IEndpointRouteBuilder MapInferenceV2(this IEndpointRouteBuilder routes)
    {
        var v2 = routes.MapGroup("/v2").WithTags("Interoperability").RequireAuthorization(Policies.AnyKey);
        v2.MapGet("/health/live", () => TypedResults.Ok(new V2Live(true)));
        v2.MapGet("/health/ready", (ModelHost host) => host.IsReady ? Results.Ok(new V2Ready(true)) : Results.Json(new V2Ready(false), statusCode: 503));
        v2.MapGet("/models/{name}", Metadata);
        v2.MapGet("/models/{name}/ready", (string name, ModelHost host) =>
            host.Current is { } m && m.Name == name ? Results.Ok(new V2ModelReady(name, true)) : Results.NotFound());
        v2.MapPost("/models/{name}/infer", InferAsync).RequireAuthorization(Policies.Predict)
            .Accepts<JsonElement>("application/json")
            .WithSummary("Scores rows given as one tensor per feature column.");
        return routes;
    }

    private static Results<Ok<V2ModelMetadata>, NotFound> Metadata(string name, ModelHost host)
    {
        if (host.Current is not { } model || model.Name != name)
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok(new V2ModelMetadata(
            model.Name,
            [model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            "mlnet",
            [.. model.Schema.Features.Select(f => new V2TensorMetadata(f.Name, f.Kind == FeatureKind.Categorical ? "BYTES" : "FP64", [-1]))],
            [new("churn_probability", "FP64", [-1]), new("will_churn", "BOOL", [-1]), new("risk_tier", "BYTES", [-1])]));
    }

    private static async Task<Results<Ok<V2InferResponse>, NotFound, ProblemHttpResult>> InferAsync(
        string name, HttpRequest request, ModelHost host, Predictor predictor, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var model = host.Require();
        if (model.Name != name)
        {
            return TypedResults.NotFound();
        }
        var errors = new FieldErrors();
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            errors.Add("inputs", "is required: an array of {name, shape, datatype, data} tensors, one per feature.");
            return JsonBody.Invalid(errors.Errors);
        }
        var columns = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        var t = 0;
        foreach (var tensor in inputs.EnumerateArray())
        {
            var path = $"inputs[{t++}]";
            if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var tensorName) || tensorName.ValueKind != JsonValueKind.String)
            {
                errors.Add(path, "must be a tensor with a name.");
                continue;
            }
            if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{path}.data", "is required: the column's values.");
                continue;
            }
            // Tensor data may be flat or nested ([[v], [v]] for shape [n, 1]); both flatten to one value per row.
            columns[tensorName.GetString()!] = [.. Flatten(data)];
        }
        var counts = columns.Values.Select(c => c.Count).Distinct().ToList();
        if (!errors.Any && counts.Count > 1)
        {
            errors.Add("inputs", "must all have the same number of rows.");
        }
        var rows = counts.Count == 1 ? counts[0] : 0;
        if (!errors.Any && rows == 0)
        {
            errors.Add("inputs", "must hold at least one row.");
        }
        if (!errors.Any && rows > settings.Api.MaxBatchSize)
        {
            errors.Add("inputs", $"hold {rows} rows; at most {settings.Api.MaxBatchSize} are allowed per request (api.max_batch_size).");
            return JsonBody.Invalid(errors.Errors, StatusCodes.Status413PayloadTooLarge, "The batch is larger than api.max_batch_size.");
        }
        var customers = new List<CustomerInput>(rows);
        if (!errors.Any)
        {
            for (var r = 0; r < rows; r++)
            {
                var row = r;
                var id = model.Schema.IdColumn is { } idc && columns.TryGetValue(idc, out var ids) ? ids[row].ToString() : null;
                customers.Add(new CustomerInput(id, FeatureInput.ReadColumns(columns.Select(c => (c.Key, c.Value[row])), $"rows[{row}]", model.Schema, errors, allowIdColumn: true), null));
            }
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var predictions = customers.Select(c => predictor.Predict(model, c, reasons: 0)).ToList();
        var requestId = root.TryGetProperty("id", out var rid) && rid.ValueKind == JsonValueKind.String ? rid.GetString() : null;
        return TypedResults.Ok(new V2InferResponse(model.Name, model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), requestId,
        [
            new("churn_probability", "FP64", [rows], [.. predictions.Select(p => (object)p.ChurnProbability)]),
            new("will_churn", "BOOL", [rows], [.. predictions.Select(p => (object)p.WillChurn)]),
            new("risk_tier", "BYTES", [rows], [.. predictions.Select(p => (object)p.RiskTier)]),
        ]));
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement data)
    {
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                foreach (var inner in Flatten(item))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return item;
            }
        }
    }
}
