using Churn.Core.Generation;

namespace Churn.Core.Tests.Generation;

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
}
