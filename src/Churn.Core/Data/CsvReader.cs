using System.Text;

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
/// A streaming RFC 4180 reader: quoted fields (with embedded commas, quotes and newlines), UTF-8 with
/// or without BOM, LF or CRLF. Blank and whitespace-only cells read as missing (null). Every
/// malformed record is an error naming its line and column; nothing is skipped except empty lines.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly char[] _buffer = new char[1 << 16];
    private readonly StringBuilder _field = new();
    private readonly List<string?> _fields = [];
    private int _pos;
    private int _len;
    private long _line = 1;

    /// <summary>Opens a reader over text; reads the header at once.</summary>
    public CsvReader(TextReader reader, string source)
    {
        _reader = reader;
        SourceName = source;
        if (!ReadRecord(allowRagged: true))
        {
            throw new CsvFormatException(source, 1, 1, "the file is empty: a header line is expected.");
        }
        var header = new string[_fields.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            var name = _fields[i]?.Trim() ?? "";
            if (name.Length == 0)
            {
                throw new CsvFormatException(source, RecordLine, i + 1, "the header has an empty column name.");
            }
            if (!seen.TryAdd(name, i))
            {
                throw new CsvFormatException(source, RecordLine, i + 1, $"the header repeats column '{name}' (first at column {seen[name] + 1}).");
            }
            header[i] = name;
        }
        Header = header;
        Current = new string?[header.Length];
    }

    /// <summary>Opens a file; a BOM is detected and stripped.</summary>
    public static CsvReader Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new CsvReader(new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true), path);
    }

    /// <summary>Name of the file or stream in error messages.</summary>
    public string SourceName { get; }

    /// <summary>Column names, trimmed, unique.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Cells of the current record (null = blank), aligned with <see cref="Header"/>.</summary>
    public string?[] Current { get; }

    /// <summary>The line on which the current record starts (1 = header).</summary>
    public long RecordLine { get; private set; }

    /// <summary>Index of a header column, or -1.</summary>
    public int ColumnIndex(string name)
    {
        for (var i = 0; i < Header.Count; i++)
        {
            if (Header[i] == name)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Advances to the next record; false at the end of the file.</summary>
    public bool Read()
    {
        if (!ReadRecord(allowRagged: false))
        {
            return false;
        }
        for (var i = 0; i < Current.Length; i++)
        {
            Current[i] = _fields[i];
        }
        return true;
    }

    private bool ReadRecord(bool allowRagged)
    {
        while (true)
        {
            _fields.Clear();
            RecordLine = _line;
            var c = Peek();
            if (c < 0)
            {
                return false;
            }
            if (c is '\n' or '\r')
            {
                // An empty line holds no data; skipping it loses nothing.
                ConsumeNewline();
                continue;
            }
            ParseFields();
            if (!allowRagged && _fields.Count != Header.Count)
            {
                throw new CsvFormatException(SourceName, RecordLine, Math.Min(_fields.Count, Header.Count) + 1,
                    $"expected {Header.Count} fields as in the header, found {_fields.Count}.");
            }
            return true;
        }
    }

    private void ParseFields()
    {
        var column = 1;
        while (true)
        {
            _field.Clear();
            var c = Peek();
            var quoted = false;
            if (c == '"')
            {
                quoted = true;
                Next();
                var startLine = _line;
                while (true)
                {
                    var q = Next();
                    if (q < 0)
                    {
                        throw new CsvFormatException(SourceName, startLine, column, "a quoted field is never closed.");
                    }
                    if (q == '"')
                    {
                        if (Peek() == '"')
                        {
                            Next();
                            _field.Append('"');
                            continue;
                        }
                        break;
                    }
                    if (q == '\n')
                    {
                        _line++;
                    }
                    _field.Append((char)q);
                }
                c = Peek();
                if (c is not (',' or '\n' or '\r' or -1))
                {
                    throw new CsvFormatException(SourceName, _line, column, $"unexpected character '{(char)c}' after a closing quote.");
                }
            }
            else
            {
                while (c is not (',' or '\n' or '\r' or -1))
                {
                    if (c == '"')
                    {
                        throw new CsvFormatException(SourceName, _line, column, "a quote inside an unquoted field (quote the whole field and double the quote).");
                    }
                    _field.Append((char)Next());
                    c = Peek();
                }
            }
            _fields.Add(ToCell(quoted));
            if (c == ',')
            {
                Next();
                column++;
                continue;
            }
            ConsumeNewline();
            return;
        }
    }

    private string? ToCell(bool quoted)
    {
        if (_field.Length == 0)
        {
            return null;
        }
        var text = _field.ToString();
        // Whitespace-only cells are blanks in real exports (Telco's TotalCharges is " " for new customers).
        return !quoted && string.IsNullOrWhiteSpace(text) ? null : text;
    }

    private void ConsumeNewline()
    {
        var c = Peek();
        if (c == '\r')
        {
            Next();
            if (Peek() == '\n')
            {
                Next();
            }
            _line++;
        }
        else if (c == '\n')
        {
            Next();
            _line++;
        }
    }

    private int Peek()
    {
        if (_pos >= _len && !Fill())
        {
            return -1;
        }
        return _buffer[_pos];
    }

    private int Next()
    {
        if (_pos >= _len && !Fill())
        {
            return -1;
        }
        return _buffer[_pos++];
    }

    private bool Fill()
    {
        try
        {
            _len = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new CsvFormatException(SourceName, _line, 1, "the file is not valid UTF-8 text.");
        }
        _pos = 0;
        return _len > 0;
    }

    public void Dispose() => _reader.Dispose();
}
