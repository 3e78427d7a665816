namespace Churn.Core.Tests.Data;

public class SchemaInferenceTests
{
    [Fact]
    public void KindsIdentifiersAndFreeTextAreInferred()
    {
        var lines = new List<string> { "row,customer,age,plan,active,name,left" };
        for (var i = 0; i < 300; i++)
        {
            lines.Add($"{i},cust-{i},{20 + i % 50},{(i % 3 == 0 ? "basic" : "gold")},{(i % 2 == 0 ? "Yes" : "No")},person{i % 250},{(i % 4 == 0 ? "1" : "0")}");
        }
        var path = TestFiles.Temp(string.Join("\n", lines));

        var inferred = SchemaInference.Infer(path, "left", "1");

        Assert.Equal("customer", inferred.Schema.IdColumn);
        Assert.Contains("row", inferred.Schema.Drop);
        Assert.Contains("name", inferred.Schema.Drop);
        Assert.Equal(
            [new FeatureSpec("age", FeatureKind.Numeric), new FeatureSpec("plan", FeatureKind.Categorical), new FeatureSpec("active", FeatureKind.Boolean)],
            inferred.Schema.Features);
    }

    [Fact]
    public void WrongPositiveLabelIsExplained()
    {
        var path = TestFiles.Temp("a,left\n1,0\n2,1\n");

        var ex = Assert.Throws<SchemaException>(() => SchemaInference.Infer(path, "left", "Yes"));

        Assert.Contains("no row has 'Yes'", ex.Message, StringComparison.Ordinal);
    }

    private static string Bank(string idName, Func<int, string> id, int rows = 200)
    {
        var lines = new List<string> { $"RowNumber,{idName},Age,Geography,Exited" };
        for (var i = 0; i < rows; i++)
        {
            lines.Add($"{i + 1},{id(i)},{20 + i % 50},{(i % 3 == 0 ? "France" : "Spain")},{(i % 5 == 0 ? "1" : "0")}");
        }
        return TestFiles.Temp(string.Join("\n", lines));
    }

    [Theory]
    [InlineData("CustomerId")]
    [InlineData("customer_id")]
    [InlineData("customerID")]
    [InlineData("id")]
    [InlineData("CLIENTNUM")]
    [InlineData("Account No")]
    [InlineData("member-number")]
    public void DigitIdsWhoseNameSaysIdentifierAreTheIdKeptAsText(string name)
    {
        var path = Bank(name, i => (15_600_000 + (i * 7919) % 100_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture));

        var inferred = SchemaInference.Infer(path, "Exited", "1");

        Assert.Equal(name, inferred.Schema.IdColumn);
        Assert.Contains("RowNumber", inferred.Schema.Drop);
        var data = Churn.Core.Data.DatasetLoader.Load(path, inferred.Schema);
        Assert.Equal("15600000", data.Ids[0]);
    }

    [Fact]
    public void LeadingZerosOfADigitIdAreKept()
    {
        var path = Bank("customer_id", i => (42 + i * 13).ToString("D5", System.Globalization.CultureInfo.InvariantCulture));

        var inferred = SchemaInference.Infer(path, "Exited", "1");
        var data = Churn.Core.Data.DatasetLoader.Load(path, inferred.Schema);

        Assert.Equal("00042", data.Ids[0]);
    }

    [Theory]
    [InlineData("Balance")]
    [InlineData("Phone")]
    [InlineData("row_id")]
    public void OtherAllDistinctDigitColumnsAreStillDropped(string name)
    {
        var path = Bank(name, i => (1000 + i * 37).ToString(System.Globalization.CultureInfo.InvariantCulture));

        var inferred = SchemaInference.Infer(path, "Exited", "1");

        Assert.Null(inferred.Schema.IdColumn);
        Assert.Contains(name, inferred.Schema.Drop);
    }

    [Theory]
    [InlineData("Unnamed: 0")]
    [InlineData("index")]
    [InlineData("line_no")]
    public void ARowIndexIsNotTakenAsTheId(string name)
    {
        var path = Bank(name, i => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Null(SchemaInference.Infer(path, "Exited", "1").Schema.IdColumn);
    }

    [Fact]
    public void LabelSpellingsAreCountedAndTheNegativeClassIsRecorded()
    {
        var path = TestFiles.Temp("a,left\n1,1\n2,1.0\n3,0\n4,0.0\n5,0\n");

        var inferred = SchemaInference.Infer(path, "left", "1");

        Assert.Equal(["0"], inferred.Schema.NegativeLabels);
        Assert.Contains(inferred.Notes, n => n.Contains("2 churned (40.0 %) as '1' (1), '1.0' (1)", StringComparison.Ordinal));
    }

    [Fact]
    public void ALabelWithThreeClassesIsRefusedListingThem()
    {
        var path = TestFiles.Temp("a,Churn\n1,Yes\n2,No\n3,yes\n4,Unknown\n");

        var ex = Assert.Throws<SchemaException>(() => SchemaInference.Infer(path, "Churn", "Yes"));
        var ok = SchemaInference.Infer(path, "Churn", ["YES"], ["no", "unknown"]);

        Assert.Contains("'No' (1), 'Unknown' (1), 'Yes' (1), 'yes' (1)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["no", "unknown"], ok.Schema.NegativeLabels);
    }

    [Fact]
    public void ASemicolonFileIsInferredAndSaysSo()
    {
        var path = TestFiles.Temp("id;charges;left\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"c{i};{i},5;{(i % 2 == 0 ? "Yes" : "No")}")) + "\n");

        var inferred = SchemaInference.Infer(path, "left", "Yes");

        Assert.Equal([new FeatureSpec("charges", FeatureKind.Numeric)], inferred.Schema.Features);
        Assert.Contains(inferred.Notes, n => n.Contains("semicolon-separated, with decimal commas", StringComparison.Ordinal));
    }
}
