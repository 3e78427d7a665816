using Churn.Core.Schema;

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
}
