using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Churn.Server.Errors;

/// <summary>
/// Reads a JSON body as a document so the endpoint can validate it against the model's schema field by field.
/// Wrong content type, an oversized body and malformed JSON throw (415, 413, 400) and become ProblemDetails in
/// <see cref="ProblemExceptionHandler"/>.
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    public static async Task<JsonDocument> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                $"Send the body as application/json (it was {(string.IsNullOrEmpty(request.ContentType) ? "not labelled" : request.ContentType)}).",
                StatusCodes.Status415UnsupportedMediaType);
        }
        var document = JsonDocument.Parse(await ReadBytesAsync(request, maxBytes, cancellationToken), Options);
        try
        {
            EnsureReadableText(document.RootElement, "$");
        }
        catch
        {
            document.Dispose();
            throw;
        }
        return document;
    }

    /// <summary>
    /// The parser accepts bytes that are not UTF-8 and escapes of half a surrogate pair inside strings; reading such a
    /// string later throws deep inside an endpoint. Every name and string is decoded once here instead, so the request
    /// is refused naming the field.
    /// </summary>
    private static void EnsureReadableText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw new InvalidBodyException(FieldName(path), "has a property name that is not valid UTF-8 text.");
                    }
                    EnsureReadableText(property.Value, $"{path}.{name}");
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    EnsureReadableText(item, $"{path}[{i++}]");
                }
                break;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new InvalidBodyException(FieldName(path), "is not valid text (invalid UTF-8 or half of a surrogate pair).");
                }
                break;
        }
    }

    /// <summary>A JSON path as the errors name fields: <c>$.customers[3].tenure</c> becomes <c>customers[3].tenure</c>; the root stays <c>$</c>.</summary>
    public static string FieldName(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>Reads the whole body, refusing more than <paramref name="maxBytes"/> whether or not Content-Length was sent.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 16 * 1024, maxBytes) + 1);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                throw TooLarge(maxBytes);
            }
        }
        if (buffer.WrittenCount == 0)
        {
            throw new InvalidBodyException("$", "The body is empty.");
        }
        return buffer.WrittenMemory;
    }

    /// <summary>A 422 (or other status) ProblemDetails naming each bad field.</summary>
    public static ProblemHttpResult Invalid(Dictionary<string, string[]> errors, int status = StatusCodes.Status422UnprocessableEntity, string? detail = null) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Title = "The request is not valid.",
            Detail = detail ?? $"{errors.Count} field(s) have problems; see errors.",
        });

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"The body is larger than {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
}

/// <summary>A body that cannot be read as sent; <see cref="ProblemExceptionHandler"/> answers 400 naming <see cref="Field"/>.</summary>
public sealed class InvalidBodyException(string field, string problem) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
