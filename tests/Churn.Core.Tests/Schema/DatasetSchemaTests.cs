namespace Churn.Core.Tests.Schema;

public class DatasetSchemaTests
{
    [Fact]
    public void SchemaRoundTripsThroughJson()
    {
        var schema = TestSchemas.Small with { Drop = ["notes"] };

        var parsed = DatasetSchema.Parse(schema.ToJson());

        Assert.Equal(schema.IdColumn, parsed.IdColumn);
        Assert.Equal(schema.Features, parsed.Features);
        Assert.Equal(schema.Drop, parsed.Drop);
        Assert.Contains("\"kind\": \"Categorical\"", schema.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void AFeatureIsFoundByItsNameInAnyUnicodeFormAndACopyWithOtherFeaturesFindsItsOwn()
    {
        var schema = new DatasetSchema
        {
            LabelColumn = "churn",
            PositiveLabel = "1",
            Features = [new FeatureSpec("tenure", FeatureKind.Numeric), new FeatureSpec("r\u00e9gion", FeatureKind.Categorical)],
        };
        // The first lookup builds the index; a copy made afterwards with other features must not reuse it.
        Assert.Equal(1, schema.IndexOf(" re\u0301gion "));
        var reordered = schema with { Features = [schema.Features[1], new FeatureSpec("plan", FeatureKind.Categorical), schema.Features[0]] };

        Assert.Equal(0, schema.IndexOf("tenure"));
        Assert.Equal(-1, schema.IndexOf("plan"));
        Assert.Equal(2, reordered.IndexOf("tenure"));
        Assert.Equal(0, reordered.IndexOf("r\u00e9gion"));
        Assert.Equal(1, reordered.IndexOf("plan"));
        Assert.Equal(schema, schema with { });
        Assert.Equal("tenure"u8.ToArray(), reordered.ExactUtf8Names[2]);
        var shadowed = schema with { Features = [new FeatureSpec("plan", FeatureKind.Categorical), new FeatureSpec("plan ", FeatureKind.Numeric)] };
        Assert.Equal(0, shadowed.IndexOf("plan "));
        Assert.Null(shadowed.ExactUtf8Names[1]);
        Assert.DoesNotContain("exactUtf8Names", schema.ToJson(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DuplicateFeatureIsRejectedWithItsIndex()
    {
        const string json = """
            {"labelColumn":"churn","positiveLabel":"1","features":[{"name":"a","kind":"Numeric"},{"name":"a","kind":"Numeric"}]}
            """;

        var ex = Assert.Throws<SchemaException>(() => DatasetSchema.Parse(json, "s.json"));

        Assert.Contains("features[1].name 'a' appears twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKindIsRejectedNamingTheFile()
    {
        const string json = """{"labelColumn":"c","positiveLabel":"1","features":[{"name":"a","kind":"Text"}]}""";

        var ex = Assert.Throws<SchemaException>(() => DatasetSchema.Parse(json, "s.json"));

        Assert.StartsWith("s.json: invalid schema JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PositiveLabelIsComparedTrimmedAndCaseInsensitively()
    {
        var schema = new DatasetSchema { LabelColumn = "c", PositiveLabel = "Yes", Features = [new("a", FeatureKind.Numeric)] };

        Assert.True(schema.IsPositive(" yes"));
        Assert.False(schema.IsPositive("No"));
    }
}
