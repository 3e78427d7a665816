using System.Text;
using System.Text.Json.Serialization;
using Churn.Core.Data;
using Churn.Core.Schema;
using Churn.Server.Health;
using Churn.Server.Models;
using Churn.Server.Predictions;
using Churn.Server.Security;

namespace Churn.Server.Interop;

/// <summary>
/// The response of the MLflow scoring protocol: one churn probability per input row, in order, and the unknown fields
/// skipped under <c>api.unknown_fields</c> = ignore (absent when none).
/// </summary>
public sealed record InvocationsResponse(
    IReadOnlyList<double> Predictions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? IgnoredFields = null);

/// <summary>
/// <c>POST /invocations</c>, the MLflow 2.x scoring protocol, so MLflow clients can call the server unchanged. A JSON body
/// holds exactly one of <c>dataframe_split</c> (<c>{"columns": [...], "data": [[...]]}</c>, <c>index</c> ignored),
/// <c>dataframe_records</c> (<c>[{column: value}]</c>), <c>instances</c> or <c>inputs</c> (either a list of records or
/// an object of columns, <c>{column: [values]}</c>), with an optional <c>params</c> object that is ignored; a
/// <c>text/csv</c> body has a header row. Python's bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> are read as
/// missing values, as MLflow's own server reads them. Rows are validated and scored exactly as by <c>/predict</c>.
/// </summary>
public static class MlflowApi
{
    private static readonly string[] Shapes = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    private const string ShapeList = "dataframe_split, dataframe_records, instances or inputs";

    public static IEndpointRouteBuilder MapMlflowScoring(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/invocations", InvokeAsync).WithTags("Interoperability").RequireAuthorization(Policies.Predict).WithBatchGate()
            .Accepts<JsonElement>("application/json", "text/csv")
            .WithSummary("MLflow scoring protocol: dataframe_split, dataframe_records, instances, inputs or text/csv; returns {\"predictions\": [probability, ...]}.");
        return routes;
    }

    private static async Task<Results<Ok<InvocationsResponse>, ProblemHttpResult>> InvokeAsync(
        HttpRequest request, ModelHost host, Predictor predictor, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        var model = host.Require();
        var errors = new FieldErrors(settings.Api.IgnoresUnknownFields());
        List<CustomerInput> rows;
        if (request.ContentType is { } type && type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = await JsonBody.ReadBytesAsync(request, options.Value.MaxJsonBodyBytes, ct);
            rows = ReadCsv(CsvText(bytes.Span), model.Schema, errors);
        }
        else
        {
            using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct, nonFiniteAsNull: true);
            rows = ReadJson(body.RootElement, model.Schema, errors);
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        if (JsonBody.BatchOutOfRange(rows.Count, settings.Api.MaxBatchSize, "data", "row", $"holds {rows.Count} rows", errors) is { } outOfRange)
        {
            return outOfRange;
        }
        return TypedResults.Ok(new InvocationsResponse(
            [.. predictor.Predict(model, rows, reasons: 0, record: !RequestWarmUp.IsWarmUp(request.HttpContext.User)).Select(p => p.ChurnProbability)],
            errors.Ignored.Count == 0 ? null : errors.Ignored));
    }

    private static List<CustomerInput> ReadJson(JsonElement root, DatasetSchema schema, FieldErrors errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", $"must be an object holding one of {ShapeList} (or send text/csv).");
            return [];
        }
        JsonProperty? shape = null;
        foreach (var property in root.EnumerateObject())
        {
            if (Shapes.Contains(property.Name))
            {
                if (shape is { } first)
                {
                    errors.Add(property.Name, $"cannot come with {first.Name}; send one of {ShapeList}.");
                }
                shape ??= property;
            }
            else if (property.Name == "params")
            {
                // MLflow passes params to models that take inference parameters; this model takes none, so they are ignored.
                if (property.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                {
                    errors.Add("params", "must be an object of inference parameters (they are accepted and ignored).");
                }
            }
            else
            {
                errors.Unknown(property.Name, $"is not part of the MLflow scoring protocol; send one of {ShapeList}, and optionally params.");
            }
        }
        if (shape is not { } input)
        {
            errors.Add("$", $"must hold one of {ShapeList} (or send text/csv).");
            return [];
        }
        // The rows are read even after a problem above, so one answer names every problem of the body.
        return (input.Name, input.Value.ValueKind) switch
        {
            ("dataframe_split", _) => ReadSplit(input.Value, schema, errors),
            ("dataframe_records", JsonValueKind.Array) or (_, JsonValueKind.Array) => ReadRecords(input.Value, input.Name, schema, errors),
            ("dataframe_records", _) => Refuse(errors, input.Name, "must be a list of {column: value} objects."),
            (_, JsonValueKind.Object) => ReadColumnar(input.Value, input.Name, schema, errors),
            _ => Refuse(errors, input.Name, "must be a list of {column: value} records or an object of columns, {column: [values]}."),
        };
    }

    /// <summary>pandas' split orientation: one list of column names, rows as lists in that order.</summary>
    private static List<CustomerInput> ReadSplit(JsonElement split, DatasetSchema schema, FieldErrors errors)
    {
        const string at = "dataframe_split";
        if (split.ValueKind != JsonValueKind.Object
            || !split.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array
            || !split.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return Refuse(errors, at, "must be {\"columns\": [names], \"data\": [[values], ...]}.");
        }
        foreach (var property in split.EnumerateObject().Where(p => p.Name is not ("columns" or "data" or "index")))
        {
            errors.Unknown($"{at}.{property.Name}", "is not part of dataframe_split; send columns and data (index is ignored).");
        }
        var names = new List<string?>();
        var i = 0;
        foreach (var column in columns.EnumerateArray())
        {
            var name = column.ValueKind == JsonValueKind.String ? column.GetString() : null;
            if (name is null)
            {
                errors.Add($"{at}.columns[{i}]", "must be a column name (a string).");
            }
            names.Add(name);
            i++;
        }
        var known = CheckColumns(names, $"{at}.columns", schema, errors);
        if (errors.Any)
        {
            return [];
        }
        var rows = new List<CustomerInput>();
        i = 0;
        foreach (var row in data.EnumerateArray())
        {
            var path = $"{at}.data[{i++}]";
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != names.Count)
            {
                errors.Add(path, $"must be a list of {names.Count} values, one per column.");
                continue;
            }
            rows.Add(ToInput([.. row.EnumerateArray().Select((value, c) => (names[c]!, value)).Where((_, c) => known[c])], path, schema, errors));
        }
        return rows;
    }

    /// <summary>Rows as objects: <c>dataframe_records</c>, and the row form of <c>instances</c> and <c>inputs</c>.</summary>
    private static List<CustomerInput> ReadRecords(JsonElement records, string at, DatasetSchema schema, FieldErrors errors)
    {
        var rows = new List<CustomerInput>();
        var i = 0;
        foreach (var record in records.EnumerateArray())
        {
            var path = $"{at}[{i++}]";
            if (record.ValueKind != JsonValueKind.Object)
            {
                errors.Add(path, "must be an object of column values, {column: value}.");
                continue;
            }
            rows.Add(ToInput([.. record.EnumerateObject().Select(p => (p.Name, p.Value))], path, schema, errors));
        }
        return rows;
    }

    /// <summary>The column form of <c>inputs</c> and <c>instances</c>: <c>{column: [values]}</c>, every list as long as the others.</summary>
    private static List<CustomerInput> ReadColumnar(JsonElement table, string at, DatasetSchema schema, FieldErrors errors)
    {
        var columns = table.EnumerateObject().ToList();
        foreach (var column in columns.Where(c => c.Value.ValueKind != JsonValueKind.Array))
        {
            errors.Add($"{at}.{column.Name}", "must be a list of values, one per row.");
        }
        var lengths = columns.Where(c => c.Value.ValueKind == JsonValueKind.Array).GroupBy(c => c.Value.GetArrayLength()).ToList();
        if (lengths.Count > 1)
        {
            var common = lengths.MaxBy(g => g.Count())!.Key;
            foreach (var column in lengths.Where(g => g.Key != common).SelectMany(g => g))
            {
                errors.Add($"{at}.{column.Name}", $"holds {column.Value.GetArrayLength()} values; the other columns hold {common}.");
            }
        }
        var known = CheckColumns([.. columns.Select(c => (string?)c.Name)], at, schema, errors, byName: true);
        if (errors.Any)
        {
            return [];
        }
        var count = lengths.Count == 0 ? 0 : lengths[0].Key;
        var rows = new List<CustomerInput>(count);
        for (var r = 0; r < count; r++)
        {
            var row = r;
            rows.Add(ToInput([.. columns.Where((_, c) => known[c]).Select(c => (c.Name, c.Value[row]))], $"{at}[{row}]", schema, errors));
        }
        return rows;
    }

    /// <summary>
    /// Checks a list of column names once for the whole table (rather than once per row): a repeated name and a missing
    /// feature are problems; an unknown name is one too unless unknown fields are ignored. Returns which columns to read.
    /// </summary>
    private static bool[] CheckColumns(List<string?> names, string at, DatasetSchema schema, FieldErrors errors, bool byName = false)
    {
        string Path(int c) => byName ? $"{at}.{names[c]}" : $"{at}[{c}]";
        var known = new bool[names.Count];
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < names.Count; c++)
        {
            if (names[c] is not { } name)
            {
                continue;
            }
            var feature = schema.IndexOf(name);
            var key = feature >= 0 ? schema.Features[feature].Name : name;
            if (first.TryGetValue(key, out var earlier))
            {
                errors.Add(Path(c), $"repeats column '{name}' ({Path(earlier)}); send each column once.");
                continue;
            }
            first[key] = c;
            if (feature < 0 && name != schema.IdColumn)
            {
                errors.Unknown(Path(c), $"'{name}' is not a feature of this model.");
                continue;
            }
            known[c] = true;
        }
        var missing = schema.Features.Where(f => !first.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            errors.Add(at, $"lacks {(missing.Count == 1 ? "the feature" : "the features")} {string.Join(", ", missing)} (send null for a value that is unknown).");
        }
        return known;
    }

    private static List<CustomerInput> Refuse(FieldErrors errors, string path, string problem)
    {
        errors.Add(path, problem);
        return [];
    }

    private static CustomerInput ToInput(List<(string Name, JsonElement Value)> cells, string path, DatasetSchema schema, FieldErrors errors)
    {
        var id = schema.IdColumn is { } idColumn ? cells.Where(c => c.Name == idColumn).Select(c => c.Value.ToString()).FirstOrDefault() : null;
        return new CustomerInput(id, FeatureInput.ReadColumns(cells, path, schema, errors, allowIdColumn: true), null);
    }

    /// <summary>A CSV body as text: a UTF-8 byte-order mark is skipped; bytes that are not UTF-8 are refused, not replaced.</summary>
    private static string CsvText(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> byteOrderMark = [0xEF, 0xBB, 0xBF];
        try
        {
            return StrictUtf8.GetString(bytes.StartsWith(byteOrderMark) ? bytes[3..] : bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidBodyException("$", "is not UTF-8 text; save the CSV as UTF-8.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static List<CustomerInput> ReadCsv(string text, DatasetSchema schema, FieldErrors errors)
    {
        var rows = new List<CustomerInput>();
        using var reader = new CsvReader(new StringReader(text), "body");
        var columns = schema.Features.Select(f => reader.ColumnIndex(f.Name)).ToArray();
        for (var f = 0; f < columns.Length; f++)
        {
            if (columns[f] < 0)
            {
                errors.Add($"columns.{schema.Features[f].Name}", "is required in the CSV header.");
            }
        }
        foreach (var name in reader.Header.Where(h => schema.IndexOf(h) < 0 && h != schema.IdColumn))
        {
            errors.Unknown($"columns.{name}", "is not a feature of this model.");
        }
        if (errors.Any)
        {
            return rows;
        }
        var idColumn = schema.IdColumn is { } id ? reader.ColumnIndex(id) : -1;
        var i = 0;
        while (reader.Read())
        {
            var values = new FeatureValue[columns.Length];
            for (var f = 0; f < columns.Length; f++)
            {
                var cell = reader.Current[columns[f]];
                values[f] = FeatureValue.Of(cell);
                if (!Fits(schema.Features[f].Kind, values[f]))
                {
                    errors.Add($"data[{i}].{schema.Features[f].Name}", $"'{cell}' is not {(schema.Features[f].Kind == FeatureKind.Numeric ? "a finite number" : "a yes/no value")}.");
                }
            }
            rows.Add(new CustomerInput(idColumn >= 0 ? reader.Current[idColumn] : null, values, null));
            i++;
        }
        return rows;
    }

    private static bool Fits(FeatureKind kind, FeatureValue value) =>
        kind == FeatureKind.Categorical || ValueParser.TryNumberOf(kind, value, out _);
}
