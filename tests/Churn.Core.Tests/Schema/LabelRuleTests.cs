namespace Churn.Core.Tests.Schema;

public class LabelRuleTests
{
    private static Dictionary<string, int> Counts(params (string Value, int Count)[] values) =>
        values.ToDictionary(v => v.Value, v => v.Count, StringComparer.Ordinal);

    [Fact]
    public void NumericLabelsCompareByValue()
    {
        var rule = new LabelRule("Exited", ["1"], []);

        var classes = rule.Resolve(Counts(("1", 10), ("1.0", 4), ("1e0", 1), ("0", 20), ("0.0", 7), ("-0", 1)), "f.csv");

        Assert.True(classes["1"] && classes["1.0"] && classes["1e0"]);
        Assert.False(classes["0"] || classes["0.0"] || classes["-0"]);
    }

    [Fact]
    public void TextLabelsCompareTrimmedAndCaseInsensitively()
    {
        var rule = new LabelRule("Churn", ["Yes"], ["No"]);

        var classes = rule.Resolve(Counts(("Yes", 3), ("yes", 2), ("YES", 1), ("no", 4), ("No", 5)), "f.csv");

        Assert.Equal(3, classes.Count(c => c.Value));
        Assert.Equal(2, classes.Count(c => !c.Value));
    }

    [Fact]
    public void AValueThatIsNeitherStopsWithEveryValueAndItsCount()
    {
        var rule = new LabelRule("Churn", ["Yes"], ["No"]);

        var ex = Assert.Throws<InvalidDataException>(() => rule.Resolve(Counts(("Yes", 1443), ("No", 5557), ("TRUE", 594), ("maybe", 3)), "f.csv"));

        Assert.Contains("'TRUE', 'maybe'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'No' (5,557), 'Yes' (1,443), 'TRUE' (594), 'maybe' (3)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--positive or --negative", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutNegativesTheOneOtherClassIsNegativeAndTwoAreRefused()
    {
        var rule = new LabelRule("Churn", ["Yes", "TRUE"], []);

        Assert.Equal(2, rule.Resolve(Counts(("Yes", 1), ("true", 1), ("No", 5)), "f.csv").Count(c => c.Value));
        var ex = Assert.Throws<InvalidDataException>(() => rule.Resolve(Counts(("Yes", 1), ("No", 5), ("FALSE", 2)), "f.csv"));
        Assert.Contains("2 classes besides the positive", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'FALSE' (2)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AValueGivenAsBothPositiveAndNegativeIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new LabelRule("c", ["1"], ["1.0"]));
    }

    [Fact]
    public void OldSchemaFilesWithOnePositiveLabelStillRead()
    {
        var schema = DatasetSchema.Parse("""{"labelColumn":"c","positiveLabel":"Yes","features":[{"name":"a","kind":"Numeric"}]}""");

        Assert.Equal(["Yes"], schema.PositiveLabels);
        Assert.Empty(schema.NegativeLabels);
        Assert.True(schema.IsPositive("yes"));
    }

    [Fact]
    public void NewSchemaFilesRecordEveryLabelValueAndTheDialect()
    {
        var schema = new DatasetSchema
        {
            LabelColumn = "c",
            PositiveLabels = ["1", "Yes"],
            NegativeLabels = ["0", "No"],
            Features = [new("a", FeatureKind.Numeric)],
            Csv = new CsvDialect(';', ','),
        };

        var json = schema.ToJson();
        var back = DatasetSchema.Parse(json);

        Assert.DoesNotContain("\"positiveLabel\"", json, StringComparison.Ordinal);
        Assert.Equal(["1", "Yes"], back.PositiveLabels);
        Assert.Equal(["0", "No"], back.NegativeLabels);
        Assert.Equal(new CsvDialect(';', ','), back.Csv);
        Assert.True(back.IsPositive("1.0"));
    }

    [Fact]
    public void ASchemaWithBothFieldsKeepsTheList()
    {
        var schema = DatasetSchema.Parse("""{"labelColumn":"c","positiveLabels":["1","2"],"positiveLabel":"1","features":[{"name":"a","kind":"Numeric"}]}""");

        Assert.Equal(["1", "2"], schema.PositiveLabels);
    }

    [Fact]
    public void OverlappingLabelListsAreASchemaError()
    {
        var ex = Assert.Throws<SchemaException>(() => DatasetSchema.Parse(
            """{"labelColumn":"c","positiveLabels":["1"],"negativeLabels":["1.0"],"features":[{"name":"a","kind":"Numeric"}]}"""));

        Assert.Contains("both positiveLabels and negativeLabels", ex.Message, StringComparison.Ordinal);
    }
}
