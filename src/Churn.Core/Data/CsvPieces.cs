using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading.Channels;

namespace Churn.Core.Data;

/// <summary>
/// A CSV stream cut into pieces at record boundaries, so that the pieces can be parsed on several threads at once and
/// still read exactly as one <see cref="CsvReader"/> over the whole stream would read them: same cells, same errors,
/// same line numbers. The header is read first (<see cref="Header"/>); each <see cref="Next"/> then hands out about
/// <c>pieceBytes</c> of raw bytes ending at a line break that is not inside a quoted field. Cutting the bytes, not the
/// text, keeps this thread's part small: finding the last line break of a block is a vectorised search, and the
/// decoding, parsing and everything after it happen on the piece's own thread (<see cref="CsvPiece.Open"/>).
/// </summary>
/// <remarks>
/// A line break is LF, CRLF or a lone CR, as for <see cref="CsvReader"/>. A quote toggles "inside a quoted field";
/// a doubled quote toggles twice. In a malformed file (a stray quote) the cut after the fault may fall inside a
/// record, but the piece holding the fault is read from a true record start, so its error is the one a single reader
/// reports first. A record longer than the pieces is handed out whole; one longer than
/// <see cref="CsvReader.MaxRecordChars"/> is an error when its piece is read.
/// </remarks>
public sealed class CsvPieces : IDisposable
{
    /// <summary>The usual size of a piece in bytes: about 2,000 rows of a typical customer file.</summary>
    public const int DefaultPieceBytes = 1 << 18;

    private readonly Stream _input;
    private readonly int _pieceBytes;
    private byte[] _buffer;
    private int _length;
    private bool _ended;
    private long _nextLine;
    private long _position;
    private long _index;

    private CsvPieces(Stream input, int pieceBytes)
    {
        _input = input;
        _pieceBytes = pieceBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(pieceBytes + (pieceBytes >> 2));
        Header = null!;
    }

    /// <summary>
    /// Reads the header of <paramref name="input"/> (UTF-8, with or without a byte-order mark). Throws
    /// <see cref="CsvFormatException"/> as <see cref="CsvReader"/> does for an empty input or a bad header.
    /// </summary>
    /// <param name="input">The CSV bytes; read forward only, in large blocks, and disposed with this.</param>
    /// <param name="source">Name of the file or stream in error messages.</param>
    /// <param name="dialect">Delimiter and decimal mark; parts left null are detected from the header.</param>
    /// <param name="pieceBytes">The size a piece is cut at (or just after, to end on a record boundary).</param>
    public static CsvPieces Open(Stream input, string source, CsvDialect? dialect = null, int pieceBytes = DefaultPieceBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceBytes, 64);
        var pieces = new CsvPieces(input, pieceBytes);
        try
        {
            pieces.ReadHeader(source, dialect);
            return pieces;
        }
        catch
        {
            pieces.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The reader of the header alone: its <see cref="CsvReader.Header"/>, <see cref="CsvReader.ColumnIndex"/>,
    /// <see cref="CsvReader.MissingColumn"/> and dialect are the file's. It has no records; the pieces have them.
    /// </summary>
    public CsvReader Header { get; private set; }

    /// <summary>
    /// The next piece, or null at the end of the input. Reads from the input (blocking as it does); call from one
    /// thread at a time. The piece owns a pooled buffer: dispose it once read.
    /// </summary>
    public CsvPiece? Next()
    {
        while (true)
        {
            if (_length >= _pieceBytes || _ended)
            {
                if (_length == 0)
                {
                    return null;
                }
                if (_ended && _length <= _pieceBytes)
                {
                    return Cut(_length);
                }
                // The last record boundary within the piece size; past it only when a record is longer than a piece.
                var cut = -1;
                for (var window = _pieceBytes; cut <= 0 && window < 2 * _length; window *= 2)
                {
                    cut = LastCut(_buffer.AsSpan(0, Math.Min(window, _length)));
                }
                if (cut > 0)
                {
                    return Cut(cut);
                }
                if (_ended || _length > 4L * CsvReader.MaxRecordChars)
                {
                    // No record ends in reach: hand the bytes out, and the reader names the record that is too long.
                    return Cut(_length);
                }
            }
            Fill(Math.Max(_pieceBytes, _length + (_pieceBytes >> 2)));
        }
    }

    private CsvPiece Cut(int cut)
    {
        var piece = new CsvPiece(Header, _buffer, cut, _nextLine, _index++, _position + cut);
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(_pieceBytes + (_pieceBytes >> 2), _length - cut + (_pieceBytes >> 2)));
        _buffer.AsSpan(cut, _length - cut).CopyTo(next);
        _buffer = next;
        _length -= cut;
        _position += cut;
        _nextLine += LineBreaks(piece.Bytes.Span);
        return piece;
    }

    /// <summary>
    /// Reads until the buffer holds at least <paramref name="wanted"/> bytes (more as one read gives them) or the input
    /// ends; with <paramref name="once"/>, stops after the first read that gave anything.
    /// </summary>
    private void Fill(int wanted, bool once = false)
    {
        if (_buffer.Length < wanted)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, 2 * _buffer.Length));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        while (_length < wanted)
        {
            var read = _input.Read(_buffer.AsSpan(_length));
            if (read == 0)
            {
                _ended = true;
                return;
            }
            _length += read;
            if (once)
            {
                return;
            }
        }
    }

    private void ReadHeader(string source, CsvDialect? dialect)
    {
        var cut = -1;
        while (cut < 0)
        {
            // One read at a time: the header is usually in the first, and scoring need not wait for more of the upload.
            Fill(_length + (1 << 16), once: true);
            cut = HeaderCut(_buffer.AsSpan(0, _length), _ended);
            if (cut < 0 && (_ended || _length > 4L * CsvReader.MaxRecordChars))
            {
                cut = _length;
            }
        }
        // The header's own copy: the reader may come back to its stream after the buffer has moved on.
        var header = new MemoryStream(_buffer.AsSpan(0, cut).ToArray(), writable: false);
        Header = new CsvReader(new StreamReader(header, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true), source, dialect);
        _nextLine = Header.NextLine;
        _buffer.AsSpan(cut, _length - cut).CopyTo(_buffer);
        _length -= cut;
        _position = cut;
    }

    /// <summary>The end of the first line that holds more than blanks (quotes respected), or -1 when it is not in <paramref name="data"/> yet.</summary>
    private static int HeaderCut(ReadOnlySpan<byte> data, bool ended)
    {
        var quoted = false;
        var content = false;
        for (var p = 0; p < data.Length; p++)
        {
            var b = data[p];
            if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            if (!quoted && b is (byte)'\n' or (byte)'\r')
            {
                // A CRLF ends at its LF; a CR at the end of what has arrived may be the first half of one.
                var crlf = b == '\r' && (p + 1 < data.Length ? data[p + 1] == '\n' : !ended);
                if (!crlf && content)
                {
                    return p + 1;
                }
                continue;
            }
            // Blanks and a byte-order mark (EF BB BF) before the header are not content.
            content |= b is not ((byte)' ' or (byte)'\t' or 0xEF or 0xBB or 0xBF);
        }
        return -1;
    }

    /// <summary>The length of the longest start of <paramref name="data"/> that ends at a record boundary, or -1.</summary>
    private static int LastCut(ReadOnlySpan<byte> data)
    {
        if (!data.Contains((byte)'"'))
        {
            // No quotes: every line break ends a record. A CR at the very end may be half of a CRLF still to come.
            var i = data.LastIndexOfAny((byte)'\n', (byte)'\r');
            if (i == data.Length - 1 && data[i] == '\r')
            {
                i = data[..i].LastIndexOfAny((byte)'\n', (byte)'\r');
            }
            return i + 1 > 0 ? i + 1 : -1;
        }
        var cut = -1;
        var quoted = false;
        var p = 0;
        while (true)
        {
            var k = data[p..].IndexOfAny((byte)'"', (byte)'\n', (byte)'\r');
            if (k < 0)
            {
                return cut;
            }
            p += k;
            var b = data[p];
            if (b == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && (b == '\n' || (p + 1 < data.Length && data[p + 1] != '\n')))
            {
                cut = p + 1;
            }
            p++;
        }
    }

    /// <summary>Line breaks in a piece, counted as <see cref="CsvReader"/> counts them: LF, CRLF and a lone CR each once.</summary>
    private static long LineBreaks(ReadOnlySpan<byte> bytes)
    {
        long lines = bytes.Count((byte)'\n');
        var cr = bytes.IndexOf((byte)'\r');
        while (cr >= 0)
        {
            if (cr + 1 >= bytes.Length || bytes[cr + 1] != '\n')
            {
                lines++;
            }
            bytes = bytes[(cr + 1)..];
            cr = bytes.IndexOf((byte)'\r');
        }
        return lines;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on every piece on the thread pool, at most <paramref name="window"/> pieces at once
    /// (so memory stays flat whatever the input's size), and hands each result to <paramref name="write"/> in input
    /// order on one thread at a time. The calling thread cuts the pieces, blocking on the input's reads. Each piece is
    /// disposed once its work is done. The first failure in input order (a piece's work, or <paramref name="write"/>)
    /// stops everything and is rethrown; a failure to read the input is rethrown when it came first.
    /// </summary>
    public async Task ProcessAsync<T>(Func<CsvPiece, T> work, Action<T> write, int window, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = Channel.CreateBounded<Task<T>>(new BoundedChannelOptions(Math.Max(1, window)) { SingleReader = true, SingleWriter = true });
        var writing = Task.Run(() => WriteInOrderAsync(pending.Reader, write, stop), CancellationToken.None);
        Exception? readFailure = null;
        try
        {
            while (Next() is { } piece)
            {
                try
                {
                    stop.Token.ThrowIfCancellationRequested();
                    await pending.Writer.WriteAsync(Task.Run(() =>
                    {
                        using (piece)
                        {
                            return work(piece);
                        }
                    }, stop.Token), stop.Token);
                }
                catch
                {
                    piece.Dispose();
                    throw;
                }
            }
        }
        catch (Exception ex)
        {
            readFailure = ex;
            await stop.CancelAsync();
        }
        finally
        {
            pending.Writer.TryComplete();
        }
        if (readFailure is null)
        {
            await writing;
            return;
        }
        try
        {
            await writing;
        }
        catch (Exception writeFailure) when (readFailure is OperationCanceledException && !ct.IsCancellationRequested)
        {
            // A piece or the writer failed first and stopped the cutting: that failure is the one to report.
            ExceptionDispatchInfo.Throw(writeFailure);
        }
        catch (Exception)
        {
            // The writer stopped because the cutting did; the cutting's failure is the one to report.
        }
        ExceptionDispatchInfo.Throw(readFailure);
    }

    private static async Task WriteInOrderAsync<T>(ChannelReader<Task<T>> pending, Action<T> write, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var next in pending.ReadAllAsync(stop.Token))
            {
                write(await next);
            }
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        Header?.Dispose();
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// Whole records of a CSV, cut by <see cref="CsvPieces"/>: bytes in a pooled buffer, the line they begin on, their
/// place among the pieces and how far into the input they end. Dispose it once read to return the buffer.
/// </summary>
public sealed class CsvPiece : IDisposable
{
    private readonly CsvReader _header;
    private byte[]? _buffer;

    internal CsvPiece(CsvReader header, byte[] buffer, int length, long firstLine, long index, long endPosition)
    {
        _header = header;
        _buffer = buffer;
        Bytes = buffer.AsMemory(0, length);
        FirstLine = firstLine;
        Index = index;
        EndPosition = endPosition;
    }

    /// <summary>The raw bytes (UTF-8), whole records only.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The line of the input on which the piece begins (1 = the first line of the input).</summary>
    public long FirstLine { get; }

    /// <summary>0 for the first piece after the header, then 1, 2...</summary>
    public long Index { get; }

    /// <summary>Bytes of the input up to the piece's end, header included.</summary>
    public long EndPosition { get; }

    /// <summary>A reader of the piece's records, as a reader of the whole input would read them (see <see cref="CsvReader.ForPiece"/>).</summary>
    public CsvReader Open()
    {
        var bytes = _buffer ?? throw new ObjectDisposedException(nameof(CsvPiece));
        var stream = new MemoryStream(bytes, 0, Bytes.Length, writable: false);
        return _header.ForPiece(new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 12), FirstLine);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
