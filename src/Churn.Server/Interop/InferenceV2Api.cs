using System.Globalization;
using System.Text.Json.Serialization;
using Churn.Core.Data;
using Churn.Core.Schema;
using Churn.Server.Health;
using Churn.Server.Models;
using Churn.Server.Predictions;
using Churn.Server.Security;

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
    [property: JsonPropertyName("parameters"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, object>? Parameters,
    [property: JsonPropertyName("outputs")] IReadOnlyList<V2Tensor> Outputs);

/// <summary>
/// The Open Inference Protocol V2 (KServe, Triton, Seldon) as its specification reads: one input tensor per feature
/// column, each with a <c>shape</c> of [n] or [n, 1] that its <c>data</c> (flat or nested, row-major) must fill exactly,
/// and a <c>datatype</c> its values and the feature's kind must fit (BYTES for categories, a number type or BYTES for
/// numbers, BOOL, a number type or BYTES for yes/no flags). Request and tensor <c>parameters</c> are accepted; requested
/// <c>outputs</c> are the ones returned. Values are read by the same parser as <c>/predict</c> and scored the same way.
/// </summary>
public static class InferenceV2Api
{
    /// <summary>The outputs of an inference, by name, in the order returned when none are requested.</summary>
    private static readonly string[] OutputNames = ["churn_probability", "will_churn", "risk_tier"];

    private static readonly HashSet<string> IntegerTypes = new(StringComparer.Ordinal) { "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64" };

    private static readonly HashSet<string> FloatTypes = new(StringComparer.Ordinal) { "FP16", "FP32", "FP64" };

    public static IEndpointRouteBuilder MapInferenceV2(this IEndpointRouteBuilder routes)
    {
        // Orchestrators (Kubernetes, KServe) probe health without keys, as they probe /health/live.
        var health = routes.MapGroup("/v2/health").WithTags("Interoperability").AllowAnonymous().DisableRateLimiting();
        health.MapGet("/live", () => TypedResults.Ok(new V2Live(true)));
        health.MapGet("/ready", (ModelHost host) => host.IsReady ? Results.Ok(new V2Ready(true)) : Results.Json(new V2Ready(false), statusCode: 503));
        var v2 = routes.MapGroup("/v2").WithTags("Interoperability").RequireAuthorization(Policies.AnyKey);
        v2.MapGet("/models/{name}", Metadata);
        v2.MapGet("/models/{name}/ready", (string name, ModelHost host) =>
            host.Current is { } m && m.Name == name ? Results.Ok(new V2ModelReady(name, true)) : Results.NotFound());
        v2.MapPost("/models/{name}/infer", InferAsync).RequireAuthorization(Policies.Predict).WithBatchGate()
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
            [model.Version.ToString(CultureInfo.InvariantCulture)],
            "mlnet",
            [.. model.Schema.Features.Select(f => new V2TensorMetadata(f.Name, DatatypeOf(f.Kind), [-1]))],
            [new("churn_probability", "FP64", [-1]), new("will_churn", "BOOL", [-1]), new("risk_tier", "BYTES", [-1])]));
    }

    private static string DatatypeOf(FeatureKind kind) => kind switch
    {
        FeatureKind.Categorical => "BYTES",
        FeatureKind.Boolean => "BOOL",
        _ => "FP64",
    };

    private static async Task<Results<Ok<V2InferResponse>, NotFound, ProblemHttpResult>> InferAsync(
        string name, HttpRequest request, ModelHost host, Predictor predictor, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var model = host.Require();
        if (model.Name != name)
        {
            return TypedResults.NotFound();
        }
        var errors = new FieldErrors(settings.Api.IgnoresUnknownFields());
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            errors.Add("inputs", "is required: a list of {name, shape, datatype, data} tensors, one per feature.");
            return JsonBody.Invalid(errors.Errors);
        }
        string? requestId = null;
        var outputs = OutputNames.ToList();
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "inputs":
                    break;
                case "id" when property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                    requestId = property.Value.GetString();
                    break;
                case "id":
                    errors.Add("id", "must be a string.");
                    break;
                case "parameters":
                    CheckParameters(property.Value, "parameters", errors);
                    break;
                case "outputs":
                    outputs = ReadOutputs(property.Value, errors);
                    break;
                default:
                    errors.Unknown(property.Name, "is not part of an inference request; send id, parameters, inputs and outputs.");
                    break;
            }
        }
        var tensors = ReadTensors(inputs, model.Name, model.Schema, errors);
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var rows = tensors.Count == 0 ? 0 : tensors[0].Rows;
        if (JsonBody.BatchOutOfRange(rows, settings.Api.MaxBatchSize, "inputs", "row", $"hold {rows} rows", errors) is { } outOfRange)
        {
            return outOfRange;
        }
        var customers = new List<CustomerInput>(rows);
        for (var r = 0; r < rows; r++)
        {
            var values = new FeatureValue[model.Schema.Features.Count];
            string? id = null;
            foreach (var tensor in tensors)
            {
                var value = tensor.Values[r];
                if (tensor.Feature is { } feature)
                {
                    values[feature] = FeatureInput.ReadValue(model.Schema.Features[feature], value, $"{tensor.Path}.data[{r}]", errors);
                }
                else if (value.ValueKind != JsonValueKind.Null)
                {
                    id = value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
                }
            }
            customers.Add(new CustomerInput(id, values, null));
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var predictions = predictor.Predict(model, customers, reasons: 0, record: !RequestWarmUp.IsWarmUp(request.HttpContext.User));
        var results = new Dictionary<string, V2Tensor>(StringComparer.Ordinal)
        {
            ["churn_probability"] = new("churn_probability", "FP64", [rows], [.. predictions.Select(p => (object)p.ChurnProbability)]),
            ["will_churn"] = new("will_churn", "BOOL", [rows], [.. predictions.Select(p => (object)p.WillChurn)]),
            ["risk_tier"] = new("risk_tier", "BYTES", [rows], [.. predictions.Select(p => (object)p.RiskTier)]),
        };
        var parameters = errors.Ignored.Count == 0 ? null : new Dictionary<string, object> { ["ignored_fields"] = errors.Ignored };
        return TypedResults.Ok(new V2InferResponse(model.Name, model.Version.ToString(CultureInfo.InvariantCulture), requestId, parameters,
            [.. outputs.Select(o => results[o])]));
    }

    /// <summary>One input tensor that passed its checks: the feature it feeds (null for the id column) and one value per row.</summary>
    private sealed record Tensor(string Path, string Name, int? Feature, int Rows, List<JsonElement> Values);

    /// <summary>
    /// Checks every tensor against the specification and the model's schema, recording problems by tensor
    /// (<c>inputs[3]</c>) rather than by row, and returns the tensors to read.
    /// </summary>
    private static List<Tensor> ReadTensors(JsonElement inputs, string model, DatasetSchema schema, FieldErrors errors)
    {
        var tensors = new List<Tensor>();
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var strangers = new List<(string Path, string Name, string Shape)>();
        var t = 0;
        foreach (var tensor in inputs.EnumerateArray())
        {
            var path = $"inputs[{t++}]";
            if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                errors.Add(path, "must be a tensor: {\"name\", \"shape\", \"datatype\", \"data\"}.");
                continue;
            }
            var name = nameElement.GetString()!;
            foreach (var property in tensor.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "name" or "shape" or "datatype" or "data":
                        break;
                    case "parameters":
                        CheckParameters(property.Value, $"{path}.parameters", errors);
                        break;
                    default:
                        errors.Unknown($"{path}.{property.Name}", "is not part of a tensor; send name, shape, datatype, data and parameters.");
                        break;
                }
            }
            var shape = ReadShape(tensor, path, name, errors);
            var datatype = tensor.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : null;
            if (datatype is null || !(datatype is "BOOL" or "BYTES" || IntegerTypes.Contains(datatype) || FloatTypes.Contains(datatype)))
            {
                errors.Add(path, $"{name}: datatype must be one of BOOL, BYTES, INT8 to INT64, UINT8 to UINT64, FP16, FP32 or FP64{(datatype is null ? "" : $"; got '{datatype}'")}.");
                datatype = null;
            }
            if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                errors.Add(path, $"{name}: data is required: the tensor's values, flat or nested in row-major order.");
                continue;
            }
            if (shape is null)
            {
                continue;
            }
            var values = new List<JsonElement>();
            if (!Flatten(data, shape, 0, values))
            {
                errors.Add(path, $"{name}: nested data does not follow shape {Show(shape)}; send it flat or nested as the shape says.");
                continue;
            }
            var declared = shape.Aggregate(1L, (product, n) => product * n);
            if (values.Count != declared)
            {
                errors.Add(path, $"{name}: shape {Show(shape)} holds {declared} value{(declared == 1 ? "" : "s")}, but data has {values.Count}.");
                continue;
            }
            if (byName.TryGetValue(name, out var earlier))
            {
                errors.Add(path, $"repeats tensor '{name}' ({earlier}); send each feature once.");
                continue;
            }
            byName[name] = path;
            var feature = schema.IndexOf(name);
            if (feature < 0 && name != schema.IdColumn)
            {
                strangers.Add((path, name, Show(shape)));
                continue;
            }
            if (shape.Count is not (1 or 2) || (shape.Count == 2 && shape[1] != 1))
            {
                errors.Add(path, $"{name}: shape {Show(shape)} gives {(shape.Count == 2 ? $"{shape[1]} values per row" : "no rows")}; a feature takes one value per row: use shape [n] or [n, 1].");
                continue;
            }
            if (datatype is not null && CheckDatatype(datatype, feature < 0 ? null : schema.Features[feature], values) is { } problem)
            {
                errors.Add(path, $"{name}: {problem}");
                continue;
            }
            tensors.Add(new Tensor(path, name, feature < 0 ? null : feature, (int)shape[0], values));
        }
        var features = string.Join(", ", schema.Features.Select(f => f.Name));
        if (strangers.Count > 0 && tensors.Count(x => x.Feature is not null) == 0)
        {
            // One matrix tensor of every feature (as sklearn servers take) or tensors named otherwise: one message says what this model takes.
            var sent = string.Join(", ", strangers.Select(s => $"\"{s.Name}\" {s.Shape}"));
            errors.Add("inputs", $"this model takes one tensor per feature, each of shape [n] or [n, 1]: {features}; {sent} {(strangers.Count == 1 ? "is not one of them" : "are not among them")} (GET /v2/models/{model} lists them).");
            return tensors;
        }
        foreach (var (path, name, _) in strangers)
        {
            errors.Unknown(path, $"'{name}' is not a feature of this model; it takes one tensor per feature: {features}.");
        }
        if (errors.Any)
        {
            return tensors;
        }
        var missing = schema.Features.Where(f => !byName.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            errors.Add("inputs", $"lack {(missing.Count == 1 ? "a tensor" : "tensors")} for {string.Join(", ", missing)} (send null values for unknown ones).");
        }
        var rows = tensors.GroupBy(x => x.Rows).ToList();
        if (rows.Count > 1)
        {
            errors.Add("inputs", $"must all have the same number of rows; got {string.Join(", ", tensors.Select(x => $"{x.Name} {x.Rows}"))}.");
        }
        return tensors;
    }

    private static List<long>? ReadShape(JsonElement tensor, string path, string name, FieldErrors errors)
    {
        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || shape.EnumerateArray().Any(n => n.ValueKind != JsonValueKind.Number || !n.TryGetInt64(out var v) || v < 0))
        {
            errors.Add(path, $"{name}: shape is required: a list of dimension sizes (whole numbers >= 0), such as [n] or [n, 1].");
            return null;
        }
        return [.. shape.EnumerateArray().Select(n => n.GetInt64())];
    }

    /// <summary>
    /// Collects a tensor's elements in row-major order. Data is either flat or nested exactly as the shape says; returns
    /// false for nesting of another form.
    /// </summary>
    private static bool Flatten(JsonElement data, List<long> shape, int depth, List<JsonElement> values)
    {
        var nested = data.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.Array);
        if (depth == 0 && !nested)
        {
            values.AddRange(data.EnumerateArray());
            return true;
        }
        if (depth >= shape.Count || data.GetArrayLength() != shape[depth])
        {
            return false;
        }
        foreach (var item in data.EnumerateArray())
        {
            if (depth == shape.Count - 1)
            {
                if (item.ValueKind == JsonValueKind.Array)
                {
                    return false;
                }
                values.Add(item);
            }
            else if (item.ValueKind != JsonValueKind.Array || !Flatten(item, shape, depth + 1, values))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Why a tensor's datatype does not fit its values or its feature's kind, or null when it fits. Null elements are missing values.</summary>
    private static string? CheckDatatype(string datatype, FeatureSpec? feature, List<JsonElement> values)
    {
        var fits = feature?.Kind switch
        {
            FeatureKind.Numeric => datatype != "BOOL",
            FeatureKind.Categorical => datatype == "BYTES" || IntegerTypes.Contains(datatype),
            _ => true,
        };
        if (!fits)
        {
            return feature!.Kind == FeatureKind.Numeric
                ? $"datatype {datatype} does not fit a numeric feature; send FP64 (or another number type, or BYTES)."
                : $"datatype {datatype} does not fit a categorical feature; send BYTES (or integer codes).";
        }
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var ok = value.ValueKind == JsonValueKind.Null || datatype switch
            {
                "BOOL" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "BYTES" => value.ValueKind == JsonValueKind.String,
                _ when FloatTypes.Contains(datatype) => value.ValueKind == JsonValueKind.Number,
                _ => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var n) && decimal.Truncate(n) == n && (datatype[0] != 'U' || n >= 0),
            };
            if (!ok)
            {
                var raw = value.GetRawText();
                return $"data[{i}] is {(raw.Length > 40 ? raw[..40] + "…" : raw)}, which is not {datatype} ({Expected(datatype)}).";
            }
        }
        return null;
    }

    private static string Expected(string datatype) => datatype switch
    {
        "BOOL" => "true or false",
        "BYTES" => "a string",
        _ when FloatTypes.Contains(datatype) => "a number",
        _ => datatype[0] == 'U' ? "a whole number >= 0" : "a whole number",
    };

    private static List<string> ReadOutputs(JsonElement outputs, FieldErrors errors)
    {
        var names = new List<string>();
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            errors.Add("outputs", $"must be a list of {{\"name\"}} objects naming outputs: {string.Join(", ", OutputNames)}.");
            return names;
        }
        var i = 0;
        foreach (var output in outputs.EnumerateArray())
        {
            var path = $"outputs[{i++}]";
            var name = output.ValueKind == JsonValueKind.Object && output.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
            if (name is null || !OutputNames.Contains(name))
            {
                errors.Add(path, $"must name an output of this model: {string.Join(", ", OutputNames)}{(name is null ? "" : $"; got '{name}'")}.");
                continue;
            }
            if (names.Contains(name))
            {
                errors.Add(path, $"repeats output '{name}'; request each output once.");
                continue;
            }
            foreach (var property in output.EnumerateObject().Where(p => p.Name != "name"))
            {
                if (property.Name == "parameters")
                {
                    CheckParameters(property.Value, $"{path}.parameters", errors);
                }
                else
                {
                    errors.Unknown($"{path}.{property.Name}", "is not part of a requested output; send name and parameters.");
                }
            }
            names.Add(name);
        }
        // An empty list asks for nothing in particular: every output.
        return i == 0 ? [.. OutputNames] : names;
    }

    /// <summary>Parameters (request, tensor or output) are accepted and do not change the inference; they must be an object.</summary>
    private static void CheckParameters(JsonElement parameters, string path, FieldErrors errors)
    {
        if (parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            errors.Add(path, "must be an object of parameters.");
        }
    }

    private static string Show(List<long> shape) => $"[{string.Join(", ", shape)}]";
}
