using System.Globalization;
using System.Text.Json.Nodes;
using Churn.Core.Generation;
using Churn.Core.Schema;

namespace Churn.Testing;

/// <summary>Customers from the seeded generator, as CSV or as the API's JSON, so test bodies always match the served schema.</summary>
public static class GeneratedCustomers
{
    /// <summary>
    /// <paramref name="count"/> customers as <c>{"customerId", "features"}</c> objects: numbers as JSON numbers, yes/no
    /// features as booleans, empty cells as null.
    /// </summary>
    public static List<JsonObject> Json(int count, int seed = 7, double drift = 0) =>
        count == 0 ? [] : [.. new CustomerGenerator().Rows(new GeneratorOptions { Rows = count, Seed = seed, Drift = drift }).Select(Json)];

    /// <summary>One generated row (the generator's cells: id, features in schema order, label) as a request object.</summary>
    public static JsonObject Json(IReadOnlyList<string> cells)
    {
        var schema = CustomerGenerator.Schema;
        var features = new JsonObject();
        for (var f = 0; f < schema.Features.Count; f++)
        {
            var cell = cells[f + 1];
            features[schema.Features[f].Name] = string.IsNullOrEmpty(cell) ? null : schema.Features[f].Kind switch
            {
                FeatureKind.Numeric => JsonValue.Create(double.Parse(cell, CultureInfo.InvariantCulture)),
                FeatureKind.Boolean => JsonValue.Create(cell == "Yes"),
                _ => JsonValue.Create(cell),
            };
        }
        return new JsonObject { ["customerId"] = cells[0], ["features"] = features };
    }

    /// <summary><paramref name="rows"/> generated customers as CSV text with the generator's header.</summary>
    public static string Csv(int rows, int seed = 7, double drift = 0)
    {
        var writer = new StringWriter();
        Write(writer, rows, seed, drift);
        return writer.ToString();
    }

    /// <summary>
    /// <paramref name="rows"/> generated customers written as a CSV file (the generator's header, UTF-8) under
    /// <see cref="Scratch.Root"/>, for commands and loaders that read a path; returns the path.
    /// </summary>
    public static string CsvFile(int rows, int seed = 7, double drift = 0)
    {
        var path = Scratch.NewFilePath(".csv");
        using var writer = new StreamWriter(path);
        Write(writer, rows, seed, drift);
        return path;
    }

    private static void Write(TextWriter writer, int rows, int seed, double drift) =>
        new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = rows, Seed = seed, Drift = drift }, writer);
}
