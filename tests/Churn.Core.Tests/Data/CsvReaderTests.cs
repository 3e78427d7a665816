namespace Churn.Core.Tests.Data;

public class CsvReaderTests
{
    private static void Same(string?[] expected, IReadOnlyList<string?> actual) =>
        Assert.Equal(string.Join("|", expected.Select(e => e ?? "<null>")), string.Join("|", actual.Select(e => e ?? "<null>")));

    private static List<string?[]> ReadAll(string text, out CsvReader reader)
    {
        reader = new CsvReader(new StringReader(text), "t.csv");
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            rows.Add((string?[])reader.Current.Clone());
        }
        return rows;
    }

    [Fact]
    public void QuotedFieldsKeepCommasQuotesAndNewlines()
    {
        var rows = ReadAll("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n", out var reader);

        Same(["a", "b", "c"], reader.Header);
        Assert.Single(rows);
        Same(["x, y", "say \"hi\"", "two\nlines"], rows[0]);
    }

    [Fact]
    public void CrlfLineEndingsAndBomAreHandled()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,v\r\n1,2\r\n3,4\r\n")).ToArray();
        var path = TestFiles.TempBytes(bytes);
        using var reader = CsvReader.Open(path);

        Assert.Equal("id", reader.Header[0]);
        Assert.True(reader.Read());
        Same(["1", "2"], reader.Current);
        Assert.True(reader.Read());
        Assert.Equal(3, reader.RecordLine);
        Same(["3", "4"], reader.Current);
        Assert.False(reader.Read());
    }

    [Fact]
    public void BlankAndWhitespaceCellsReadAsMissing()
    {
        var rows = ReadAll("a,b,c\n, ,\"\"\n", out _);

        Same([null, null, null], rows[0]);
    }

    [Fact]
    public void RaggedRowIsRejectedWithLineAndColumn()
    {
        AssertRejected("a,b,c\n1,2,3\n4,5\n", line: 3, column: 3, "expected 3 fields");
    }

    [Fact]
    public void UnclosedQuoteIsRejectedAtTheLineWhereItOpened()
    {
        AssertRejected("a,b\n1,2\n3,\"open\n4,5\n", line: 3, column: 2, "never closed");
    }

    [Fact]
    public void StrayQuoteInsideUnquotedFieldIsRejected()
    {
        AssertRejected("a,b\n1,x\"y\n", line: 2, column: 2);
    }

    [Fact]
    public void DuplicateHeaderIsRejected()
    {
        var ex = Assert.Throws<CsvFormatException>(() => ReadAll("a,b,a\n1,2,3\n", out _));

        Assert.Contains("repeats column 'a'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8IsRejectedNotGuessed()
    {
        var path = TestFiles.TempBytes([.. Encoding.ASCII.GetBytes("a,b\n1,"), 0xC3, 0x28, (byte)'\n']);

        var ex = Assert.Throws<CsvFormatException>(() =>
        {
            using var reader = CsvReader.Open(path);
            while (reader.Read())
            {
            }
        });

        Assert.Contains("not valid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyLinesAreSkippedAndLineNumbersStayTrue()
    {
        var rows = ReadAll("a,b\n\n1,2\n\n3,4", out var reader);

        Assert.Equal(2, rows.Count);
        Assert.Equal(5, reader.RecordLine);
    }

    /// <summary>Asserts reading <paramref name="csv"/> fails at <paramref name="line"/> and <paramref name="column"/>, saying <paramref name="message"/>.</summary>
    private static void AssertRejected(string csv, int line, int column, string message = "")
    {
        var ex = Assert.Throws<CsvFormatException>(() => ReadAll(csv, out _));

        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}
