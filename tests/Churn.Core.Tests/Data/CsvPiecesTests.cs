namespace Churn.Core.Tests.Data;

/// <summary>A CSV cut into pieces reads exactly as one reader over the whole text: cells, record lines and errors.</summary>
public class CsvPiecesTests
{
    /// <summary>Every record of the text with the line it starts on, read by one <see cref="CsvReader"/>.</summary>
    private static List<(long Line, string?[] Cells)> ReadWhole(byte[] bytes)
    {
        using var reader = new CsvReader(new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false, true), true), "text");
        var rows = new List<(long, string?[])>();
        while (reader.Read())
        {
            rows.Add((reader.RecordLine, (string?[])reader.Current.Clone()));
        }
        return rows;
    }

    /// <summary>The same records, read piece by piece; also the pieces' count.</summary>
    private static (List<(long Line, string?[] Cells)> Rows, int Pieces) ReadPieces(byte[] bytes, int pieceBytes)
    {
        // A stream that gives a few bytes per read, as an upload that is still arriving does.
        using var pieces = CsvPieces.Open(new TrickleStream(bytes, 7), "text", pieceBytes: pieceBytes);
        var rows = new List<(long, string?[])>();
        var count = 0;
        while (pieces.Next() is { } piece)
        {
            using (piece)
            using (var reader = piece.Open())
            {
                count++;
                while (reader.Read())
                {
                    rows.Add((reader.RecordLine, (string?[])reader.Current.Clone()));
                }
            }
        }
        return (rows, count);
    }

    public static TheoryData<string, string> Texts() => new()
    {
        { "LF", Text("\n") },
        { "CRLF", Text("\r\n") },
        { "lone CR", Text("\r") },
        { "byte-order mark and blank lines first", "\uFEFF\n  \n" + Text("\n") },
        { "quoted line breaks and quotes", Text("\n", quoted: true) },
        { "blank lines between records, no final break", Text("\n").Replace("c7,", "\n\nc7,", StringComparison.Ordinal).TrimEnd('\n') },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void PiecesReadAsTheWholeTextReadsWhateverThePieceSize(string name, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var whole = ReadWhole(bytes);

        foreach (var size in new[] { 64, 100, 257, 1 << 16 })
        {
            var (rows, pieces) = ReadPieces(bytes, size);

            Assert.Equal(whole.Count, rows.Count);
            for (var i = 0; i < whole.Count; i++)
            {
                Assert.True(whole[i].Line == rows[i].Line, $"{name}, pieces of {size}: record {i + 1} is on line {whole[i].Line}, read as {rows[i].Line}.");
                Assert.Equal(whole[i].Cells, rows[i].Cells);
            }
            Assert.True(pieces >= Math.Max(1, bytes.Length / size), $"{name}: {bytes.Length} bytes in pieces of {size} made {pieces} pieces.");
        }
    }

    [Fact]
    public void AMalformedRecordInALaterPieceIsReportedWithItsLineInTheWholeText()
    {
        var lines = Text("\n", quoted: true).Split('\n').ToList();
        var bad = lines.FindLastIndex(l => l.StartsWith("c30,", StringComparison.Ordinal));
        lines[bad] = "c30,\"never closed,3";
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        var expected = Assert.Throws<CsvFormatException>(() => ReadWhole(bytes));

        var error = Assert.Throws<CsvFormatException>(() => ReadPieces(bytes, 64));

        Assert.Equal(expected.Message, error.Message);
        Assert.Equal(bad + 1, error.Line);
    }

    [Fact]
    public void AnEmptyInputIsAnErrorAsForOneReader()
    {
        var error = Assert.Throws<CsvFormatException>(() => CsvPieces.Open(new MemoryStream([]), "text"));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PiecesWorkedInParallelAreWrittenInInputOrder()
    {
        var bytes = Encoding.UTF8.GetBytes(Text("\n", quoted: true));
        using var pieces = CsvPieces.Open(new TrickleStream(bytes, 50), "text", pieceBytes: 64);
        var written = new List<string?>();

        // Later pieces often finish first: the earlier ones wait a little.
        await pieces.ProcessAsync(piece =>
        {
            Thread.Sleep(piece.Index % 3 == 0 ? 20 : 0);
            using var reader = piece.Open();
            var ids = new List<string?>();
            while (reader.Read())
            {
                ids.Add(reader.Current[0]);
            }
            return ids;
        }, written.AddRange, window: 4, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 40).Select(i => $"c{i}"), written);
    }

    [Fact]
    public async Task TheFirstFailureInInputOrderStopsTheWorkAndIsRethrown()
    {
        var bytes = Encoding.UTF8.GetBytes(Text("\n"));
        using var pieces = CsvPieces.Open(new MemoryStream(bytes), "text", pieceBytes: 64);
        var written = new List<long>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pieces.ProcessAsync(piece =>
            piece.Index is 3 or 5 ? throw new InvalidOperationException($"piece {piece.Index}") : piece.Index,
            written.Add, window: 4, CancellationToken.None));

        Assert.Equal("piece 3", error.Message);
        Assert.Equal([0, 1, 2], written);
    }

    [Fact]
    public async Task AnInputThatBreaksOffFailsTheWorkWithItsErrorAndNothingPastTheBreakIsWritten()
    {
        var bytes = Encoding.UTF8.GetBytes(Text("\n"));
        using var pieces = CsvPieces.Open(new BreakingStream(bytes, breakAt: bytes.Length / 2), "text", pieceBytes: 64);
        var written = 0;

        var error = await Assert.ThrowsAsync<IOException>(() => pieces.ProcessAsync(piece =>
        {
            using var reader = piece.Open();
            var rows = 0;
            while (reader.Read())
            {
                rows++;
            }
            return rows;
        }, rows => written += rows, window: 2, CancellationToken.None));

        Assert.Equal("the connection broke", error.Message);
        Assert.InRange(written, 0, 19);
    }

    /// <summary>40 records of three columns; with <paramref name="quoted"/>, some notes hold quotes, delimiters and line breaks.</summary>
    private static string Text(string lineBreak, bool quoted = false)
    {
        var text = new StringBuilder("id,plan,note").Append(lineBreak);
        for (var i = 1; i <= 40; i++)
        {
            var note = quoted && i % 3 == 0 ? $"\"said \"\"hi\"\",{lineBreak}then left\"" : $"note {i}";
            text.Append(CultureInfo.InvariantCulture, $"c{i},{(i % 2 == 0 ? "basic" : "pro")},{note}").Append(lineBreak);
        }
        return text.ToString();
    }

    private sealed class BreakingStream(byte[] bytes, int breakAt) : MemoryStream(bytes, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            Position >= breakAt ? throw new IOException("the connection broke") : base.Read(buffer, offset, (int)Math.Min(count, breakAt - Position));
    }

    private sealed class TrickleStream(byte[] bytes, int most) : MemoryStream(bytes, writable: false)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(most, buffer.Length)]);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(most, count));
    }
}
