using System.Text;
using System.Text.Json;
using Churn.Core.Data;
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

/// <summary>The response of the MLflow scoring protocol: one churn probability per input row, in order.</summary>
public sealed record InvocationsResponse(IReadOnlyList<double> Predictions);

/// <summary>
/// <c>POST /invocations</c>, the MLflow scoring protocol, so MLflow clients can call the server unchanged:
/// <c>{"dataframe_split": {"columns": [...], "data": [[...]]}}</c>, <c>{"dataframe_records": [{...}]}</c> or a CSV body.
/// Rows are validated and scored exactly as by <c>/predict</c>.
/// </summary>
public static class MlflowApi
{
    public static IEndpointRouteBuilder MapMlflowScoring(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/invocations", InvokeAsync).WithTags("Interoperability").RequireAuthorization(Policies.Predict)
            .Accepts<JsonElement>("application/json", "text/csv")
            .WithSummary("MLflow scoring protocol: dataframe_split, dataframe_records or text/csv; returns {\"predictions\": [probability, ...]}.");
        return routes;
    }

    private static async Task<Results<Ok<InvocationsResponse>, ProblemHttpResult>> InvokeAsync(
        HttpRequest request, ModelHost host, Predictor predictor, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        var model = host.Require();
        var errors = new FieldErrors();
        List<CustomerInput> rows;
        if (request.ContentType is { } type && type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = await JsonBody.ReadBytesAsync(request, options.Value.MaxJsonBodyBytes, ct);
            rows = ReadCsv(Encoding.UTF8.GetString(bytes.Span), model.Schema, errors);
        }
        else
        {
            using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
            rows = ReadJson(body.RootElement, model.Schema, errors);
        }
        if (!errors.Any && rows.Count == 0)
        {
            errors.Add("data", "must hold at least one row.");
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        if (rows.Count > settings.Api.MaxBatchSize)
        {
            errors.Add("data", $"holds {rows.Count} rows; at most {settings.Api.MaxBatchSize} are allowed per request (api.max_batch_size).");
            return JsonBody.Invalid(errors.Errors, StatusCodes.Status413PayloadTooLarge, "The batch is larger than api.max_batch_size.");
        }
        return TypedResults.Ok(new InvocationsResponse([.. rows.Select(r => predictor.Predict(model, r, reasons: 0).ChurnProbability)]));
    }

    private static List<CustomerInput> ReadJson(JsonElement root, DatasetSchema schema, FieldErrors errors)
    {
        var rows = new List<CustomerInput>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("dataframe_split", out var split))
        {
            if (split.ValueKind != JsonValueKind.Object
                || !split.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array
                || !split.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                errors.Add("dataframe_split", "must be {\"columns\": [names], \"data\": [[values], ...]}.");
                return rows;
            }
            var names = columns.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText()).ToList();
            var i = 0;
            foreach (var row in data.EnumerateArray())
            {
                var path = $"dataframe_split.data[{i++}]";
                if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != names.Count)
                {
                    errors.Add(path, $"must be an array of {names.Count} values, one per column.");
                    continue;
                }
                var cells = names.Zip(row.EnumerateArray()).ToList();
                rows.Add(ToInput(cells, path, schema, errors));
            }
            return rows;
        }
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("dataframe_records", out var records))
        {
            if (records.ValueKind != JsonValueKind.Array)
            {
                errors.Add("dataframe_records", "must be an array of {column: value} objects.");
                return rows;
            }
            var i = 0;
            foreach (var record in records.EnumerateArray())
            {
                var path = $"dataframe_records[{i++}]";
                if (record.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(path, "must be an object of column values.");
                    continue;
                }
                rows.Add(ToInput([.. record.EnumerateObject().Select(p => (p.Name, p.Value))], path, schema, errors));
            }
            return rows;
        }
        errors.Add("$", "must hold dataframe_split or dataframe_records (or send text/csv).");
        return rows;
    }

    private static CustomerInput ToInput(List<(string Name, JsonElement Value)> cells, string path, DatasetSchema schema, FieldErrors errors)
    {
        var id = schema.IdColumn is { } idColumn ? cells.Where(c => c.Name == idColumn).Select(c => c.Value.ToString()).FirstOrDefault() : null;
        return new CustomerInput(id, FeatureInput.ReadColumns(cells, path, schema, errors, allowIdColumn: true), null);
    }

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
            errors.Add($"columns.{name}", "is not a feature of this model.");
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

    private static bool Fits(FeatureKind kind, FeatureValue value) => kind switch
    {
        FeatureKind.Numeric => ValueParser.TryNumber(value, out _),
        FeatureKind.Boolean => ValueParser.TryBoolean(value, out _),
        _ => true,
    };
}
