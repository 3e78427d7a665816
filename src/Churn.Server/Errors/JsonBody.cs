using System.Buffers;
using Churn.Server.Predictions;

namespace Churn.Server.Errors;

/// <summary>
/// Reads every JSON body of the API as a document so the endpoint can validate it against the model's schema field by
/// field. Wrong content type, an oversized body, malformed JSON and a field given twice throw (415, 413, 400, 422) and
/// become ProblemDetails in <see cref="ProblemExceptionHandler"/>.
/// </summary>
public static class JsonBody
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = JsonBodyCheck.MaxDepth };

    /// <summary>
    /// Reads and checks a JSON body: a UTF-8 byte-order mark is skipped; a field named twice in one object is a 422, and
    /// a bare <c>NaN</c>/<c>Infinity</c>, text that is not UTF-8 and any other syntax error a 400, each naming the field
    /// (<see cref="InvalidBodyException"/>). With <paramref name="nonFiniteAsNull"/> (the MLflow protocol, whose clients
    /// are Python programs) those bare tokens are read as null instead.
    /// </summary>
    /// <exception cref="BadHttpRequestException">The body is not labelled as JSON (415) or is larger than <paramref name="maxBytes"/> (413).</exception>
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken, bool nonFiniteAsNull = false)
    {
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                $"Send the body as application/json (it was {(string.IsNullOrEmpty(request.ContentType) ? "not labelled" : request.ContentType)}).",
                StatusCodes.Status415UnsupportedMediaType);
        }
        var (rented, length) = await ReadPooledAsync(request, maxBytes, cancellationToken);
        try
        {
            var bytes = Utf8Body(rented.AsMemory(0, length));
            if (nonFiniteAsNull && JsonBodyCheck.NonFiniteTokensAsNull(bytes.Span) is { } rewritten)
            {
                bytes = rewritten;
            }
            JsonBodyCheck.Check(bytes.Span);
            // The document takes its own copy from the shared pool (and gives it back when disposed), so the body's buffer
            // goes back at once: a batch's body costs no new array, nor one on the large-object heap past 85 KB.
            var reader = new Utf8JsonReader(bytes.Span, ReaderOptions);
            return JsonDocument.ParseValue(ref reader);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Reads a JSON body as <typeparamref name="T"/> after the same checks as <see cref="ReadAsync"/>; null when no body
    /// was sent and <paramref name="optional"/>.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellationToken, bool optional = false)
        where T : class
    {
        if (optional && request.ContentLength is null or 0 && !request.HasJsonContentType())
        {
            return null;
        }
        using var document = await ReadAsync(request, maxBytes, cancellationToken);
        return document.RootElement.Deserialize<T>(JsonSerializerOptions.Web);
    }

    /// <summary>
    /// The body as UTF-8 JSON text: a byte-order mark (which editors and Windows tools write) is skipped; a UTF-16 or
    /// UTF-32 body, which JSON over HTTP may not be, is refused by name rather than as a stray byte.
    /// </summary>
    private static ReadOnlyMemory<byte> Utf8Body(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        ReadOnlySpan<byte> byteOrderMark = [0xEF, 0xBB, 0xBF];
        if (span.StartsWith(byteOrderMark))
        {
            return bytes[3..];
        }
        // JSON starts with an ASCII character, so a zero among the first two bytes or a UTF-16 mark means 16 or 32 bits per unit.
        if (span.Length >= 2 && (span[0] == 0 || span[1] == 0 || (span[0] == 0xFF && span[1] == 0xFE) || (span[0] == 0xFE && span[1] == 0xFF)))
        {
            throw new InvalidBodyException("$", "is UTF-16 or UTF-32 text; send JSON as UTF-8.");
        }
        return bytes;
    }

    /// <summary>A JSON path as the errors name fields: <c>$.customers[3].tenure</c> becomes <c>customers[3].tenure</c>; the root stays <c>$</c>.</summary>
    public static string FieldName(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>Reads the whole body, refusing more than <paramref name="maxBytes"/> whether or not Content-Length was sent.</summary>
    /// <exception cref="BadHttpRequestException">The body is larger than <paramref name="maxBytes"/> (413).</exception>
    /// <exception cref="InvalidBodyException">The body is empty.</exception>
    public static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        var (rented, length) = await ReadPooledAsync(request, maxBytes, cancellationToken);
        var bytes = rented.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(rented);
        return bytes;
    }

    /// <summary>
    /// The whole body in an array rented from the shared pool (the caller returns it) and how many bytes of it are the
    /// body. A declared length is read into one array of that size plus the byte that proves the body ends there;
    /// without one, the array doubles as the body grows.
    /// </summary>
    private static async Task<(byte[] Rented, int Length)> ReadPooledAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } declared ? (int)declared + 1 : (int)Math.Min(16 * 1024, maxBytes + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }
            if (length == 0)
            {
                throw new InvalidBodyException("$", "The body is empty.");
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A 422 (or other status) ProblemDetails naming each bad field.</summary>
    public static ProblemHttpResult Invalid(Dictionary<string, string[]> errors, int status = StatusCodes.Status422UnprocessableEntity, string? detail = null) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Title = "The request is not valid.",
            Detail = detail ?? $"{errors.Count} field(s) have problems; see errors.",
        });

    /// <summary>
    /// The one batch-size rule of every scoring protocol: null when <paramref name="field"/> holds from one to
    /// <paramref name="limit"/> (<c>api.max_batch_size</c>) rows. An empty batch is a 400 ProblemDetails saying it must hold
    /// at least one <paramref name="row"/> (e.g. "customer"); a larger one a 413 with <paramref name="holds"/> saying what it
    /// holds (e.g. "holds 1200 customers"). Either adds its error to <paramref name="errors"/> beside any already there.
    /// </summary>
    public static ProblemHttpResult? BatchOutOfRange(int count, int limit, string field, string row, string holds, FieldErrors errors)
    {
        if (count == 0)
        {
            errors.Add(field, $"must hold at least one {row}.");
            return Invalid(errors.Errors);
        }
        if (count <= limit)
        {
            return null;
        }
        errors.Add(field, $"{holds}; at most {limit} are allowed per request (api.max_batch_size).");
        return Invalid(errors.Errors, StatusCodes.Status413PayloadTooLarge, "The batch is larger than api.max_batch_size.");
    }

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"The body is larger than {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
}

/// <summary>
/// A body that cannot be read as sent; <see cref="ProblemExceptionHandler"/> answers <see cref="Status"/> (400 unless
/// given) naming <see cref="Field"/>.
/// </summary>
public sealed class InvalidBodyException(string field, string problem, int status = StatusCodes.Status400BadRequest) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;

    public string Problem { get; } = problem;

    public int Status { get; } = status;
}
