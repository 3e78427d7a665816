namespace Churn.Core.Tests.Data;

public class CsvTextTests
{
    private static string Write(params string[] cells)
    {
        var writer = new StringWriter();
        CsvText.WriteRow(writer, cells);
        return writer.ToString();
    }

    [Fact]
    public void CellWithACommaIsQuoted()
    {
        Assert.Equal("a,\"b,c\",d\n", Write("a", "b,c", "d"));
    }

    [Fact]
    public void QuotesInsideACellAreDoubled()
    {
        Assert.Equal("\"say \"\"hi\"\"\"\n", Write("say \"hi\""));
    }

    [Fact]
    public void CellWithALineBreakIsQuoted()
    {
        Assert.Equal("\"two\nlines\",\"cr\rhere\"\n", Write("two\nlines", "cr\rhere"));
    }

    [Fact]
    public void PlainAndBlankCellsAreWrittenAsTheyAre()
    {
        Assert.Equal("Month-to-month,,12.50\n", Write("Month-to-month", "", "12.50"));
    }

    [Theory]
    [InlineData("=SUM(A1:A9)", "'=SUM(A1:A9)")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("+1 555", "'+1 555")]
    [InlineData("-12.5", "-12.5")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("=x,\"y\"", "\"'=x,\"\"y\"\"\"")]
    public void ResultCellsAreQuotedAndGuardedAgainstFormulas(string value, string expected)
    {
        Assert.Equal(expected, CsvText.Cell(value));
    }
}

