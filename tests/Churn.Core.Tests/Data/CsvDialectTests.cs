namespace Churn.Core.Tests.Data;

public class CsvDialectTests
{
    private static readonly DatasetSchema Schema = TestSchemas.Small;

    private static List<string?[]> ReadAll(CsvReader reader)
    {
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            rows.Add((string?[])reader.Current.Clone());
        }
        return rows;
    }

    [Theory]
    [InlineData(';')]
    [InlineData('\t')]
    [InlineData('|')]
    [InlineData(',')]
    public void DelimiterIsDetectedFromTheHeader(char delimiter)
    {
        var text = string.Join(delimiter, "id", "plan", "note") + "\n" + string.Join(delimiter, "c1", "basic", "\"a, b; c|d\tx\"") + "\n";
        using var reader = new CsvReader(new StringReader(text), "t.csv");

        var rows = ReadAll(reader);

        Assert.Equal(delimiter, reader.Delimiter);
        Assert.Equal(["id", "plan", "note"], reader.Header);
        Assert.Equal("a, b; c|d\tx", rows[0][2]);
    }

    [Theory]
    [InlineData("82,5", "82.5")]
    [InlineData("-0,25", "-0.25")]
    [InlineData("1.234,5", "1234.5")]
    [InlineData("12.345.678,90", "12345678.90")]
    [InlineData("Smith, John", null)]
    [InlineData("1,2,3", null)]
    [InlineData("12.34,5", null)]
    [InlineData("1,", null)]
    public void DecimalCommaNumbersAreRewrittenAndOtherTextIsNot(string cell, string? expected)
    {
        Assert.Equal(expected, CsvReader.DecimalCommaNumber(cell));
    }

    [Fact]
    public void SemicolonFileWithDecimalCommasLoadsLikeItsCommaTwin()
    {
        var comma = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,12.5,basic,Yes,Yes\nc2,3,\"gold, plus\",0.0,No\n");
        var semi = TestFiles.Temp("id;tenure;plan;paperless;churn\nc1;12,5;basic;Yes;Yes\nc2;3;gold, plus;0,0;No\n");

        var a = DatasetLoader.Load(comma, Schema);
        var b = DatasetLoader.Load(semi, Schema);

        Assert.Equal(a.Columns[0].Numbers!, b.Columns[0].Numbers!);
        Assert.Equal(a.Columns[1].Categories!, b.Columns[1].Categories!);
        Assert.Equal(a.Columns[2].Numbers!, b.Columns[2].Numbers!);
        Assert.Equal(new CsvDialect(';', ','), b.ReadAs);
    }

    [Fact]
    public void DecimalPointCanBeForcedForASemicolonFile()
    {
        var semi = TestFiles.Temp("id;tenure;plan;paperless;churn\nc1;1,5;basic;Yes;Yes\n");

        var ex = Assert.Throws<CsvFormatException>(() => DatasetLoader.Load(semi, Schema, LabelRequirement.Required, new CsvDialect(Decimal: '.')));

        Assert.Contains("'1,5' is not a number", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongDelimiterNamesTheOneTheFileAppearsToUse()
    {
        var semi = TestFiles.Temp("id;tenure;plan;paperless;churn\nc1;12;basic;Yes;Yes\n");

        var ex = Assert.Throws<CsvFormatException>(() => DatasetLoader.Load(semi, Schema, LabelRequirement.Required, new CsvDialect(',')));

        Assert.Contains("semicolon-separated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--delimiter ';'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSchemaCanFixTheDialect()
    {
        var pipe = TestFiles.Temp("id|tenure|plan|paperless|churn\nc1|12|basic;gold|Yes|Yes\n");

        var data = DatasetLoader.Load(pipe, Schema with { Csv = new CsvDialect('|', '.') });

        Assert.Equal("basic;gold", data.Columns[1].Categories![0]);
    }

    [Fact]
    public void BomAndDecomposedHeaderMatchTheSchema()
    {
        var schema = Schema with { Features = [new("tenure", FeatureKind.Numeric), new("r\u00e9gion", FeatureKind.Categorical)] };
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,tenure,re\u0301gion,churn\r\nc1,1,Malmo\u0308,Yes\r\nc2,2,Malm\u00f6,No\r\n")).ToArray();

        var data = DatasetLoader.Load(TestFiles.TempBytes(bytes), schema);

        Assert.Equal("Malm\u00f6", data.Columns[1].Categories![0]);
        Assert.Equal("Malm\u00f6", data.Columns[1].Categories![1]);
    }

    [Fact]
    public void ErrorsNameTheirLineInASemicolonFileWithQuotedNewlines()
    {
        var ragged = TestFiles.Temp("a;b;c\n1;\"two\nlines\";3\n4;5\n");
        var stray = TestFiles.Temp("a;b\n1;x\"y\n");
        var unclosed = TestFiles.Temp("a;b\n1;2\n3;\"open\n4;5\n");

        var e1 = Assert.Throws<CsvFormatException>(() => ReadAll(CsvReader.Open(ragged)));
        var e2 = Assert.Throws<CsvFormatException>(() => ReadAll(CsvReader.Open(stray)));
        var e3 = Assert.Throws<CsvFormatException>(() => ReadAll(CsvReader.Open(unclosed)));

        Assert.Equal((4L, 3), (e1.Line, e1.Column));
        Assert.Equal((2L, 2), (e2.Line, e2.Column));
        Assert.Equal((3L, 2), (e3.Line, e3.Column));
        Assert.Contains("never closed", e3.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingMarkersReadAsMissingInEveryKind()
    {
        var path = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,NA,N/A,null,Yes\nc2,NaN,#N/A,<NA>,No\nc3,1,None,1.0,No\n");

        var data = DatasetLoader.Load(path, Schema);

        Assert.All(data.Columns[0].Numbers!.Take(2), n => Assert.True(double.IsNaN(n)));
        Assert.Equal("||None", string.Join("|", data.Columns[1].Categories!));
        Assert.True(double.IsNaN(data.Columns[2].Numbers![0]));
        Assert.Equal(1.0, data.Columns[2].Numbers![2]);
    }

    [Fact]
    public void LabelSpellingsAreReadByValue()
    {
        var schema = Schema with { PositiveLabels = ["1"], NegativeLabels = [] };
        var path = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,1,a,1,1\nc2,1,a,0,1.0\nc3,1,a,0,1e0\nc4,1,a,1,0\nc5,1,a,0,0.0\n");

        var data = DatasetLoader.Load(path, schema);

        Assert.Equal([true, true, true, false, false], data.Labels!);
    }

    [Fact]
    public void AThirdLabelValueStopsTrainingData()
    {
        var schema = Schema with { PositiveLabels = ["1"], NegativeLabels = ["0"] };
        var path = TestFiles.Temp("id,tenure,plan,paperless,churn\nc1,1,a,1,1\nc2,1,a,0,2\nc3,1,a,0,0\n");

        var ex = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(path, schema));

        Assert.Contains("'2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'0' (1), '1' (1), '2' (1)", ex.Message, StringComparison.Ordinal);
        // Scoring does not need labels, so the same file still loads for it, unlabelled.
        Assert.Null(DatasetLoader.Load(path, schema, LabelRequirement.Optional).Labels);
    }
}
