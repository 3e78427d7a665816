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
        return JsonDocument.Parse(await ReadBytesAsync(request, maxBytes, cancellationToken), Options);
    }

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
            throw new BadHttpRequestException("The body is empty.", StatusCodes.Status400BadRequest);
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
