using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Scoring;
using Churn.Data;
using Churn.Server.Models;
using Churn.Server.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Churn.Server.Errors;

/// <summary>A request that ran longer than <c>api.timeout</c>.</summary>
public sealed class RequestTimedOutException(TimeSpan timeout, Exception inner)
    : Exception($"The request took longer than {timeout.TotalSeconds:0.#} s (api.timeout).", inner);

/// <summary>
/// The one place where exceptions become responses: every error is an RFC 9457 ProblemDetails, and an exception
/// this list does not know is a 500 that says nothing about internals.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ServerMetrics metrics, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer. 499 is what proxies log for this.
            context.Response.StatusCode = 499;
            return true;
        }
        var problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => NotJson(json),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad => Validation(StatusCodes.Status400BadRequest, BoundField(bad.Message), bad.Message),
            BadHttpRequestException bad => Problem(bad.StatusCode, Title(bad.StatusCode), bad.Message),
            JsonException json => NotJson(json),
            InvalidBodyException body => Validation(body.Status, body.Field, body.Problem),
            CsvFormatException csv => Validation(StatusCodes.Status400BadRequest, $"line {csv.Line}", $"column {csv.Column}: {csv.Problem}"),
            FeatureValueException value => Validation(StatusCodes.Status422UnprocessableEntity, $"features.{value.Feature}", $"{value.Problem}."),
            ModelNotReadyException notReady => Problem(StatusCodes.Status503ServiceUnavailable, "Not ready.", notReady.Message),
            ModelPackageException package => Problem(StatusCodes.Status422UnprocessableEntity, "The model package cannot be loaded.", package.Message),
            ModelIntegrityException integrity => Problem(StatusCodes.Status422UnprocessableEntity, "The model package failed its integrity check.", integrity.Message),
            AliasConflictException conflict => Problem(StatusCodes.Status409Conflict, "The alias changed concurrently.", conflict.Message),
            RegistryException registry => Problem(StatusCodes.Status409Conflict, "The registry refused the change.", registry.Message),
            RequestTimedOutException timeout => Problem(StatusCodes.Status504GatewayTimeout, "The request timed out.", timeout.Message),
            Predictions.BatchesBusyException busy => Busy(context, busy),
            _ when StoreOutage.Is(exception) => StoreAway(context, exception),
            _ => null,
        };
        if (problem is null)
        {
            log.LogError(exception, "Unhandled error on {Method} {Path}.", context.Request.Method, context.Request.Path);
            problem = Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.", "The error has been logged.");
        }
        context.Response.StatusCode = problem.Status!.Value;
        metrics.Error(problem.Status.Value);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    /// <summary>
    /// The store is away (stopped, unreachable, locked): whatever needed it did not happen. Predictions do not need it and
    /// go on; a change (a promotion, a key, a setting) gets 503 with a time to try again.
    /// </summary>
    private ProblemDetails StoreAway(HttpContext context, Exception exception)
    {
        log.LogWarning("The store is unavailable for {Method} {Path}: {Error}", context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
        context.Response.Headers.RetryAfter = "5";
        return Problem(StatusCodes.Status503ServiceUnavailable, "The store is unavailable.",
            "The store (database) does not answer just now, so nothing was read or changed; predictions are still served. Try again shortly.");
    }

    /// <summary>Too many multi-row scoring requests already wait for their turn: 503, with when to try again.</summary>
    private static ProblemDetails Busy(HttpContext context, Predictions.BatchesBusyException busy)
    {
        context.Response.Headers.RetryAfter = Predictions.BatchesBusyException.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problem(StatusCodes.Status503ServiceUnavailable, "Too many batches are waiting.", busy.Message);
    }

    /// <summary>Malformed JSON, named by where the parser stopped (the path when it knows it, else the body, <c>$</c>).</summary>
    private static HttpValidationProblemDetails NotJson(JsonException json)
    {
        var problem = Validation(StatusCodes.Status400BadRequest, JsonBody.FieldName(json.Path), $"is not valid JSON: {json.Message}");
        problem.Title = "The body is not valid JSON.";
        return problem;
    }

    /// <summary>
    /// The parameter a minimal-API binding failure names (<c>Failed to bind parameter "int? limit" from "abc".</c> names
    /// <c>limit</c>); a failure that names none is about the body as a whole.
    /// </summary>
    private static string BoundField(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "parameter \"(?:[^\"]* )?(?<name>[^\" ]+)\"", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
        return match.Success ? match.Groups["name"].Value : "$";
    }

    private static HttpValidationProblemDetails Validation(int status, string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] }) { Status = status, Title = "The request is not valid." };

    private static string Title(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported content type.",
        StatusCodes.Status408RequestTimeout => "The request body arrived too slowly.",
        _ => "Bad request.",
    };
}
