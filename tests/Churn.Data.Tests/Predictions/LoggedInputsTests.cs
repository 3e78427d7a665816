using Churn.Core.Data;
using Churn.Core.Schema;
using Churn.Data.Predictions;

namespace Churn.Data.Tests.Predictions;

public sealed class LoggedInputsTests
{
    private static readonly DatasetSchema Schema = new()
    {
        IdColumn = "id",
        LabelColumn = "churn",
        PositiveLabel = "Yes",
        Features =
        [
            new("tenure", FeatureKind.Numeric), new("plan", FeatureKind.Categorical), new("paperless", FeatureKind.Boolean),
            new("charges", FeatureKind.Numeric), new("senior", FeatureKind.Categorical),
        ],
    };

    [Fact]
    public void EachKindOfLoggedValueIsReadAsTheSchemaSays()
    {
        var dataset = LoggedInputs.ToDataset(Schema,
        [
            ("a", """{"tenure": 12, "plan": "Gold", "paperless": true, "charges": "70.5", "senior": 0}"""),
            // Out of order, an unknown property (nested), a repeated name (the last counts), escapes and nulls.
            ("b", """{"extra": {"x": [1, {"y": 2}]}, "senior": null, "plan": "Caf\u00e9 \"Plus\"", "tenure": 3, "tenure": 4, "paperless": "no", "charges": null}"""),
            // Absent features, text where a number belongs, a boolean in a numeric column, an object in a categorical one.
            ("c", """{"tenure": "soon", "charges": false, "senior": {"k": [true]}}"""),
            (null, "{}"),
        ]);

        double[] tenure = [12, 4, double.NaN, double.NaN];
        Assert.Equal(tenure, dataset.Columns[0].Numbers!);
        string?[] plan = ["Gold", "Café \"Plus\"", null, null];
        Assert.Equal(plan, dataset.Columns[1].Categories!.AsEnumerable());
        double[] paperless = [1, 0, double.NaN, double.NaN];
        Assert.Equal(paperless, dataset.Columns[2].Numbers!);
        double[] charges = [70.5, double.NaN, 0, double.NaN];
        Assert.Equal(charges, dataset.Columns[3].Numbers!);
        string?[] senior = ["0", null, """{"k": [true]}""", null];
        Assert.Equal(senior, dataset.Columns[4].Categories!.AsEnumerable());
        string?[] ids = ["a", "b", "c", null];
        Assert.Equal(ids, dataset.Ids.AsEnumerable());
    }

    [Fact]
    public void ManyRowsReadInParallelChunksEqualTheDocumentReadingRowByRow()
    {
        var random = new Random(5);
        // More levels than a parser matches by their bytes, some the prefix of another, and one text spelled two ways.
        string[] plans = ["Gold", "Silver", "Bronze", "Caf\\u00e9", "Café", "", .. Enumerable.Range(1, 30).Select(k => $"Tier {k}")];
        var rows = Enumerable.Range(0, 20_000).Select(i =>
        {
            var tenure = random.Next(10) == 0 ? "null" : random.Next(0, 72).ToString(CultureInfo.InvariantCulture);
            var charges = (random.NextDouble() * 120).ToString("R", CultureInfo.InvariantCulture);
            var plan = random.Next(12) == 0 ? "null" : $"\"{plans[random.Next(plans.Length)]}\"";
            var paperless = random.Next(3) switch { 0 => "true", 1 => "\"Yes\"", _ => "0" };
            return ((string?)$"c{i}", $$"""{"tenure": {{tenure}}, "plan": {{plan}}, "paperless": {{paperless}}, "charges": {{charges}}, "senior": {{random.Next(2)}}}""");
        }).ToList();

        var dataset = LoggedInputs.ToDataset(Schema, rows);

        for (var r = 0; r < rows.Count; r++)
        {
            using var document = JsonDocument.Parse(rows[r].Item2);
            var root = document.RootElement;
            for (var f = 0; f < Schema.Features.Count; f++)
            {
                var spec = Schema.Features[f];
                var column = dataset.Columns[f];
                var value = root.GetProperty(spec.Name);
                if (column.Categories is { } categories)
                {
                    var expected = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Null => null,
                        _ => value.GetRawText(),
                    };
                    Assert.Equal(expected, categories[r]);
                    continue;
                }
                var raw = value.ValueKind switch
                {
                    JsonValueKind.Number => FeatureValue.Of(value.GetDouble()),
                    JsonValueKind.True => FeatureValue.Of(1),
                    JsonValueKind.False => FeatureValue.Of(0),
                    JsonValueKind.String => FeatureValue.Of(value.GetString()),
                    _ => FeatureValue.Missing,
                };
                var number = ValueParser.TryNumberOf(spec.Kind, raw, out var n) ? n : double.NaN;
                Assert.Equal(number, column.Numbers![r]);
            }
        }
    }

    [Fact]
    public void ARowThatIsNotAJsonObjectIsRefusedNamingIt()
    {
        var error = Assert.ThrowsAny<JsonException>(() => LoggedInputs.ToDataset(Schema, [("a", "{}"), ("b", "[1, 2]")]));
        Assert.Contains("row 1", error.Message, StringComparison.Ordinal);
    }
}
