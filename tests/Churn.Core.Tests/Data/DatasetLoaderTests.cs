namespace Churn.Core.Tests.Data;

public class DatasetLoaderTests
{
    private static readonly DatasetSchema Schema = TestSchemas.Small with { Drop = ["notes"] };

    [Fact]
    public void TypedColumnsLabelsAndIdsAreRead()
    {
        var path = TestFiles.Temp("id,tenure,plan,paperless,notes,churn\nc1,12,basic,Yes,x,Yes\nc2, ,premium,no,,No\n");

        var data = DatasetLoader.Load(path, Schema);

        Assert.Equal(2, data.RowCount);
        Assert.Equal("c1|c2", string.Join("|", data.Ids));
        Assert.Equal([true, false], data.Labels!);
        Assert.Equal(12, data.Columns[0].Numbers![0]);
        Assert.True(double.IsNaN(data.Columns[0].Numbers![1]));
        Assert.Equal("premium", data.Columns[1].Categories![1]);
        Assert.Equal([1.0, 0.0], data.Columns[2].Numbers!);
        Assert.Equal(64, data.Fingerprint.Length);
    }

    [Fact]
    public void UnparseableNumberNamesLineColumnAndValue()
    {
        var path = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,12,basic,Yes,Yes\nc2,twelve,basic,No,No\n");

        var ex = Assert.Throws<CsvFormatException>(() => DatasetLoader.Load(path, Schema));

        Assert.Equal(3, ex.Line);
        Assert.Equal(2, ex.Column);
        Assert.Contains("'tenure': 'twelve' is not a number", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BlankLabelIsAnErrorForTraining()
    {
        var path = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,12,basic,Yes,\n");

        var ex = Assert.Throws<CsvFormatException>(() => DatasetLoader.Load(path, Schema));

        Assert.Contains("label is blank", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFeatureColumnIsNamed()
    {
        var path = TestFiles.Temp("id,tenure,paperless,churn\nc1,12,Yes,Yes\n");

        var ex = Assert.Throws<CsvFormatException>(() => DatasetLoader.Load(path, Schema));

        Assert.Contains("no column 'plan'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LenientLoadCountsBadCellsAndReportsUnknownColumns()
    {
        var path = TestFiles.Temp("id,tenure,plan,paperless,extra,churn\nc1,abc,basic,maybe,1,Yes\nc2,3,basic,No,2,No\n");

        DatasetLoader.Load(path, Schema, LabelRequirement.Optional, lenient: true, out var report);

        Assert.Equal(["extra"], report.IgnoredColumns);
        Assert.Equal(2, report.Issues.Count);
        Assert.Equal((2L, 2, "tenure"), (report.Issues[0].Line, report.Issues[0].Column, report.Issues[0].ColumnName));
        Assert.Equal("paperless", report.Issues[1].ColumnName);
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e999")]
    public void NonFiniteNumbersAreRefused(string cell)
    {
        Assert.False(ValueParser.TryNumber(cell, out _));
    }
}
