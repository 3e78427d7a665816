using System.Text;
using Sylvan.Data.Csv;

namespace Churn.Core.Data;

/// <summary>A CSV file that cannot be read as written; names the source, line and column.</summary>
public sealed class CsvFormatException(string source, long line, int column, string problem)
    : Exception($"{source}: line {line}, column {column}: {problem}")
{
    public string FileName { get; } = source;
    public long Line { get; } = line;
    public int Column { get; } = column;
    public string Problem { get; } = problem;
}

/// <summary>
/// A streaming CSV reader over <c>Sylvan.Data.Csv</c>: RFC 4180 quoting (embedded delimiters, quotes and newlines),
/// UTF-8 with or without a byte-order mark, LF or CRLF, and the dialects spreadsheets save: fields separated by a comma,
/// semicolon, tab or pipe (detected from the header line unless given) and decimal commas. Header names are trimmed and
/// put in Unicode form C, so they match however the file was normalised. Blank and whitespace-only cells read as missing
/// (null). Every malformed record is an error naming its line and column; nothing is skipped except empty lines.
/// </summary>
public sealed class CsvReader : IDisposable
{
    /// <summary>The longest record accepted, in characters; longer ones are an error (usually a quote never closed).</summary>
    public const int MaxRecordChars = 16 << 20;

    private readonly CsvDataReader _csv;
    private readonly Dictionary<string, int> _columns;
    private readonly string? _path;
    private readonly string _headerText;
    private long _nextLine;

    /// <summary>
    /// Opens a reader over text and reads the header at once. Throws <see cref="CsvFormatException"/> for an empty input,
    /// a blank or repeated column name, or text that is not valid in the reader's encoding.
    /// </summary>
    /// <param name="reader">The text; disposed with this reader.</param>
    /// <param name="source">Name of the file or stream in error messages.</param>
    /// <param name="dialect">Delimiter and decimal mark; parts left null are detected.</param>
    public CsvReader(TextReader reader, string source, CsvDialect? dialect = null)
        : this(reader, source, dialect, path: null)
    {
    }

    private CsvReader(TextReader reader, string source, CsvDialect? dialect, string? path)
    {
        SourceName = source;
        _path = path;
        _columns = new(StringComparer.Ordinal);
        dialect ??= CsvDialect.Detect;
        var (prefix, header, headerLine) = ReadHeaderLine(reader, source, path, dialect.Delimiter ?? ',');
        _headerText = prefix;
        if (header is null)
        {
            reader.Dispose();
            throw new CsvFormatException(source, 1, 1, "the file is empty: a header line is expected.");
        }
        DetectedDelimiter = Detect(header);
        Delimiter = dialect.Delimiter ?? DetectedDelimiter;
        DecimalComma = (dialect.Decimal ?? (Delimiter == ',' ? '.' : ',')) == ',';
        try
        {
            _csv = CsvDataReader.Create(new PrefixedReader(prefix, reader), Options(Delimiter, 1 << 16));
        }
        catch (Sylvan.Data.Csv.CsvFormatException ex)
        {
            throw new CsvFormatException(source, headerLine, ex.FieldOrdinal + 1, Describe(ex));
        }
        var names = new string[_csv.FieldCount];
        for (var i = 0; i < names.Length; i++)
        {
            var name = ValueParser.Canonical(_csv.GetName(i));
            if (name.Length == 0)
            {
                throw new CsvFormatException(source, headerLine, i + 1, "the header has an empty column name.");
            }
            if (!_columns.TryAdd(name, i))
            {
                throw new CsvFormatException(source, headerLine, i + 1, $"the header repeats column '{name}' (first at column {_columns[name] + 1}).");
            }
            names[i] = name;
        }
        Header = names;
        Current = new string?[names.Length];
        RecordLine = headerLine;
        _nextLine = headerLine + 1 + header.AsSpan().Count('\n');
    }

    /// <summary>A reader of a later piece of the same text (see <see cref="ForPiece"/>): the header is known, not read.</summary>
    private CsvReader(CsvReader file, TextReader piece, long firstLine)
    {
        SourceName = file.SourceName;
        _path = null;
        _columns = file._columns;
        _headerText = file._headerText;
        DetectedDelimiter = file.DetectedDelimiter;
        Delimiter = file.Delimiter;
        DecimalComma = file.DecimalComma;
        Header = file.Header;
        Current = new string?[Header.Count];
        RecordLine = firstLine - 1;
        _nextLine = firstLine;
        // The header line goes first again, so the piece is parsed exactly as the whole text would be; a piece is
        // short and in memory, so a small buffer (out of the large-object heap) does, and grows for a long record.
        try
        {
            _csv = CsvDataReader.Create(new PrefixedReader(_headerText, piece), Options(Delimiter, 1 << 12));
        }
        catch (Sylvan.Data.Csv.CsvFormatException ex)
        {
            throw new CsvFormatException(SourceName, firstLine, ex.FieldOrdinal + 1, Describe(ex));
        }
        catch (DecoderFallbackException)
        {
            throw InvalidUtf8(SourceName, null, Delimiter, firstLine);
        }
    }

    private static CsvDataReaderOptions Options(char delimiter, int bufferSize) => new()
    {
        Delimiter = delimiter,
        HasHeaders = true,
        CsvStyle = CsvStyle.Standard,
        // '#' opens a comment line by default; in churn data it is just a character.
        Comment = '\0',
        BufferSize = bufferSize,
        MaxBufferSize = MaxRecordChars,
    };

    /// <summary>
    /// A reader of a piece of the same text that begins at a record boundary on line <paramref name="firstLine"/>
    /// (see <see cref="CsvPieces"/>): the same header, dialect and source name, and errors that name the line in the
    /// whole text. Pieces of one text can be read on several threads at once; this reader is not touched by them.
    /// </summary>
    /// <param name="piece">The piece's text, without the header; disposed with the returned reader.</param>
    /// <param name="firstLine">The line of the whole text on which the piece begins.</param>
    public CsvReader ForPiece(TextReader piece, long firstLine) => new(this, piece, firstLine);

    /// <summary>The line on which the next record starts: after the header, the first data line.</summary>
    internal long NextLine => _nextLine;

    /// <summary>
    /// Opens a file; a byte-order mark is detected and skipped. Throws <see cref="FileNotFoundException"/> when the file
    /// does not exist and <see cref="CsvFormatException"/> as the constructor does.
    /// </summary>
    public static CsvReader Open(string path, CsvDialect? dialect = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new CsvReader(new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true), path, dialect, path);
    }

    /// <summary>Name of the file or stream in error messages.</summary>
    public string SourceName { get; }

    /// <summary>Column names, trimmed and in Unicode form C, unique.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The field separator in use.</summary>
    public char Delimiter { get; }

    /// <summary>The separator the header line looks to use (the one that splits it most), whatever was asked for.</summary>
    public char DetectedDelimiter { get; }

    /// <summary>Whether numbers written with a decimal comma (<c>82,5</c>, <c>1.234,5</c>) are read as <c>82.5</c>, <c>1234.5</c>.</summary>
    public bool DecimalComma { get; }

    /// <summary>The dialect the file is read in, whether given or detected.</summary>
    public CsvDialect Dialect => new(Delimiter, DecimalComma ? ',' : '.');

    /// <summary>Cells of the current record (null = blank), aligned with <see cref="Header"/>.</summary>
    public string?[] Current { get; }

    /// <summary>The line on which the current record starts (1 = header, unless blank lines precede it).</summary>
    public long RecordLine { get; private set; }

    /// <summary>Index of a header column (the name compared trimmed and in Unicode form C), or -1.</summary>
    public int ColumnIndex(string name) => _columns.TryGetValue(ValueParser.Canonical(name), out var i) ? i : -1;

    /// <summary>Index of a header column that must be there.</summary>
    /// <param name="name">The column looked for.</param>
    /// <param name="role">What the column is, e.g. "the label column" (see <see cref="MissingColumn"/>).</param>
    /// <exception cref="CsvFormatException">The header lacks it; the error stands on line 1, one column past the last.</exception>
    public int RequireColumn(string name, string? role = null)
    {
        var index = ColumnIndex(name);
        return index >= 0 ? index : throw new CsvFormatException(SourceName, 1, Header.Count + 1, MissingColumn(name, role));
    }

    /// <summary>The header column of each of <paramref name="schema"/>'s features, in schema order.</summary>
    /// <exception cref="CsvFormatException">The header lacks a feature's column; <paramref name="role"/> says why it is needed.</exception>
    public int[] RequireFeatureColumns(DatasetSchema schema, string role) => [.. schema.Features.Select(f => RequireColumn(f.Name, role))];

    /// <summary>
    /// The sentence for a column the header lacks, with what explains it when something does: a header that reads as
    /// one column holding another delimiter, or a column whose name differs only in case.
    /// </summary>
    /// <param name="name">The column looked for.</param>
    /// <param name="role">What the column is, e.g. "which the schema lists as a feature".</param>
    public string MissingColumn(string name, string? role = null)
    {
        var message = $"the header has no column '{name}'{(role is null ? "" : ", " + role)}";
        if (Header.Count == 1 && DetectedDelimiter != Delimiter)
        {
            var shown = Header[0].Length > 60 ? Header[0][..60] + "..." : Header[0];
            return $"{message}: line 1 holds one column '{shown}', and the file looks {CsvDialect.Name(DetectedDelimiter)}-separated; " +
                $"read it with --delimiter '{(DetectedDelimiter == '\t' ? "tab" : DetectedDelimiter)}' (or leave the delimiter out to detect it).";
        }
        var near = Header.FirstOrDefault(h => string.Equals(h, ValueParser.Canonical(name), StringComparison.OrdinalIgnoreCase));
        return near is null
            ? $"{message} (columns: {string.Join(", ", Header.Take(30))}{(Header.Count > 30 ? ", ..." : "")})."
            : $"{message}; it has '{near}' (names are compared exactly, case included).";
    }

    /// <summary>Advances to the next record; false at the end of the input. Throws <see cref="CsvFormatException"/> for a malformed record.</summary>
    public bool Read()
    {
        while (true)
        {
            bool more;
            try
            {
                more = _csv.Read();
            }
            catch (Sylvan.Data.Csv.CsvFormatException ex)
            {
                throw new CsvFormatException(SourceName, _nextLine, ex.FieldOrdinal + 1, Describe(ex));
            }
            catch (DecoderFallbackException)
            {
                throw InvalidUtf8(SourceName, _path, Delimiter, _nextLine);
            }
            if (!more)
            {
                return false;
            }
            RecordLine = _nextLine;
            var raw = _csv.GetRawRecordSpan();
            _nextLine += LineBreaks(raw);
            var fields = _csv.RowFieldCount;
            if (fields == 1 && raw.TrimEnd("\r\n").IsEmpty)
            {
                // An empty line holds no data; skipping it loses nothing.
                continue;
            }
            if (fields != Header.Count)
            {
                throw new CsvFormatException(SourceName, RecordLine, Math.Min(fields, Header.Count) + 1,
                    $"expected {Header.Count} fields as in the header, found {fields}" +
                    (fields == 1 && Delimiter != ',' && raw.Contains(',') ? $" (the line has commas: is the file {CsvDialect.Name(Delimiter)}-separated?)." : "."));
            }
            for (var i = 0; i < fields; i++)
            {
                Current[i] = Cell(i, raw);
            }
            return true;
        }
    }

    private string? Cell(int i, ReadOnlySpan<char> raw)
    {
        var span = _csv.GetFieldSpan(i);
        // Whitespace-only cells are blanks in real exports (Telco's TotalCharges is " " for new customers).
        if (span.IsWhiteSpace())
        {
            return null;
        }
        if (span.Contains('"') && !IsQuoted(raw, i))
        {
            throw new CsvFormatException(SourceName, RecordLine, i + 1, "a quote inside an unquoted field (quote the whole field and double the quote).");
        }
        if (DecimalComma && span.Contains(',') && DecimalCommaNumber(span.Trim()) is { } number)
        {
            return number;
        }
        return span.ToString();
    }

    /// <summary>
    /// A decimal-comma number rewritten with a dot: <c>-82,5</c> is <c>-82.5</c>, <c>1.234,5</c> is <c>1234.5</c>; null
    /// for anything else, which stays as written.
    /// </summary>
    internal static string? DecimalCommaNumber(ReadOnlySpan<char> text)
    {
        var start = text.Length > 0 && text[0] is '+' or '-' ? 1 : 0;
        var comma = text.IndexOf(',');
        if (comma <= start || comma == text.Length - 1 || text[(comma + 1)..].ContainsAnyExcept("0123456789"))
        {
            return null;
        }
        var whole = text[start..comma];
        if (whole.Contains('.'))
        {
            // Dots before a decimal comma group thousands: 1.234.567,8. Anything else is not a number.
            var groups = whole.ToString().Split('.');
            if (groups[0].Length is < 1 or > 3 || groups.Skip(1).Any(g => g.Length != 3) || groups.Any(g => g.AsSpan().ContainsAnyExcept("0123456789")))
            {
                return null;
            }
            return string.Concat(text[..start], string.Concat(groups), ".", text[(comma + 1)..]);
        }
        if (whole.ContainsAnyExcept("0123456789"))
        {
            return null;
        }
        return string.Concat(text[..comma], ".", text[(comma + 1)..]);
    }

    /// <summary>Whether field <paramref name="index"/> of a raw record starts with a quote (only asked for the rare field holding one).</summary>
    private bool IsQuoted(ReadOnlySpan<char> raw, int index)
    {
        var field = 0;
        var p = 0;
        while (p < raw.Length)
        {
            var quoted = raw[p] == '"';
            if (field == index)
            {
                return quoted;
            }
            if (quoted)
            {
                p++;
                while (p < raw.Length && !(raw[p] == '"' && (p + 1 >= raw.Length || raw[p + 1] != '"')))
                {
                    p += raw[p] == '"' ? 2 : 1;
                }
                p++;
            }
            while (p < raw.Length && raw[p] != Delimiter)
            {
                p++;
            }
            p++;
            field++;
        }
        return false;
    }

    private static long LineBreaks(ReadOnlySpan<char> raw)
    {
        var lf = raw.Count('\n');
        // Old Mac files end lines with a lone CR.
        return lf > 0 ? lf : raw.Count('\r');
    }

    private static string Describe(Sylvan.Data.Csv.CsvFormatException ex) => ex switch
    {
        CsvRecordTooLargeException => $"a record is longer than {MaxRecordChars:N0} characters (a quoted field is probably never closed).",
        _ when ex.Message.Contains("closing quote", StringComparison.OrdinalIgnoreCase) && ex.Message.Contains("without", StringComparison.OrdinalIgnoreCase)
            => "a quoted field is never closed.",
        _ when ex.Message.Contains("after a closing quote", StringComparison.OrdinalIgnoreCase)
            => "unexpected character after a closing quote (a quote inside a field must be doubled).",
        _ => ex.Message,
    };

    /// <summary>The delimiter that splits the header line into the most fields (quotes respected); a comma when none does.</summary>
    private static char Detect(string header)
    {
        Span<int> counts = stackalloc int[CsvDialect.Delimiters.Length];
        var quoted = false;
        foreach (var c in header)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && Array.IndexOf(CsvDialect.Delimiters, c) is var d and >= 0)
            {
                counts[d]++;
            }
        }
        var best = 0;
        for (var d = 1; d < counts.Length; d++)
        {
            if (counts[d] > counts[best])
            {
                best = d;
            }
        }
        return CsvDialect.Delimiters[best];
    }

    /// <summary>
    /// Reads up to the end of the first non-empty line (a line break inside quotes does not end it). Returns the text to
    /// hand on (that line and its break), the line itself without a byte-order mark, and its line number.
    /// </summary>
    private static (string Prefix, string? Header, long Line) ReadHeaderLine(TextReader reader, string source, string? path, char delimiter)
    {
        var text = new StringBuilder();
        var line = 1L;
        var quoted = false;
        try
        {
            while (true)
            {
                var c = reader.Read();
                if (c < 0)
                {
                    break;
                }
                if (c == '\uFEFF' && text.Length == 0)
                {
                    continue;
                }
                if (c == '"')
                {
                    quoted = !quoted;
                }
                if (!quoted && c is '\n' or '\r')
                {
                    if (text.Length == 0 || text.ToString().AsSpan().IsWhiteSpace())
                    {
                        // Blank lines before the header hold nothing.
                        if (c == '\n' || reader.Peek() != '\n')
                        {
                            line++;
                        }
                        text.Clear();
                        continue;
                    }
                    var header = text.ToString();
                    text.Append((char)c);
                    if (c == '\r' && reader.Peek() == '\n')
                    {
                        text.Append((char)reader.Read());
                    }
                    return (text.ToString(), header, line);
                }
                text.Append((char)c);
                if (text.Length > MaxRecordChars)
                {
                    throw new CsvFormatException(source, line, 1, $"the header line is longer than {MaxRecordChars:N0} characters.");
                }
            }
        }
        catch (DecoderFallbackException)
        {
            throw InvalidUtf8(source, path, delimiter, line);
        }
        var last = text.ToString();
        return string.IsNullOrWhiteSpace(last) ? ("", null, line) : (last, last, line);
    }

    /// <summary>
    /// The error for bytes that are not UTF-8. The decoder reads ahead in blocks, so for a file the bytes are scanned
    /// again to name the line and column that hold the first bad sequence; for a stream the record being read is named.
    /// </summary>
    private static CsvFormatException InvalidUtf8(string source, string? path, char delimiter, long line)
    {
        const string Problem = "the file is not valid UTF-8 text.";
        if (path is null)
        {
            return new CsvFormatException(source, line, 1, Problem);
        }
        var bytes = File.ReadAllBytes(path);
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? 3 : 0;
        var valid = bytes.AsSpan(start);
        var bad = 0;
        while (bad < valid.Length)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(valid[bad..], new char[4096], out var read, out _, replaceInvalidSequences: false);
            bad += read;
            if (status == System.Buffers.OperationStatus.InvalidData || status == System.Buffers.OperationStatus.NeedMoreData)
            {
                break;
            }
        }
        var before = valid[..bad];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        return new CsvFormatException(source, 1 + before.Count((byte)'\n'), 1 + before[lineStart..].Count((byte)delimiter), Problem);
    }

    public void Dispose() => _csv.Dispose();

    /// <summary>Replays the header line already read for detection, then the rest of the input.</summary>
    private sealed class PrefixedReader(string prefix, TextReader inner) : TextReader
    {
        private int _pos;

        public override int Peek() => _pos < prefix.Length ? prefix[_pos] : inner.Peek();

        public override int Read() => _pos < prefix.Length ? prefix[_pos++] : inner.Read();

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            if (_pos < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            return inner.Read(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
