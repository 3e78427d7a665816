using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Churn.Server.Telemetry;

namespace Churn.Server.Predictions;

/// <summary>
/// A multi-row scoring request turned away because <see cref="ServerOptions.BatchQueueLimit"/> requests already wait
/// for the <see cref="BatchGate"/>: answered 503 with a Retry-After of <see cref="RetryAfterSeconds"/> s.
/// </summary>
public sealed class BatchesBusyException(int running, int waiting)
    : Exception($"{running} multi-row scoring requests are running and {waiting} are waiting (Churn:BatchConcurrency, Churn:BatchQueueLimit); try again shortly.")
{
    /// <summary>Seconds a client is asked to wait before sending the request again.</summary>
    public const int RetryAfterSeconds = 1;
}

/// <summary>
/// Lets at most <see cref="Permits"/> multi-row scoring requests (<c>POST /predict/batch</c>, <c>POST /v2/models/{name}/infer</c>,
/// <c>POST /invocations</c>) run at once, from reading the body to writing the response; later ones wait their turn in
/// arrival order, up to <see cref="ServerOptions.BatchQueueLimit"/>, and one more is refused with
/// <see cref="BatchesBusyException"/>. A batch already scores its rows on every core, so more batches at once add no
/// throughput: they only hold more rows' inputs, scores, explanations and log entries in memory together (bench/NOTES.md,
/// resident memory under batches). A waiting request holds no parsed body. Built on the runtime's
/// <see cref="ConcurrencyLimiter"/>. Its state is on <c>/metrics</c>: <c>churn_batch_running</c> and <c>churn_batch_waiting</c>, labelled with <c>permits</c> and <c>queue_limit</c>.
/// </summary>
public sealed class BatchGate : IDisposable
{
    private readonly ConcurrencyLimiter limiter;

    public BatchGate(IOptions<ServerOptions> options, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        Permits = options.Value.BatchConcurrency > 0 ? options.Value.BatchConcurrency : Environment.ProcessorCount;
        QueueLimit = options.Value.BatchQueueLimit;
        limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Permits,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var meter = meters.Create(ServerMetrics.MeterName);
        // Each reading carries the gate's settings, so the two gauges say how full the gate is against what it allows.
        var settings = new KeyValuePair<string, object?>[] { new("permits", Permits), new("queue_limit", QueueLimit) };
        meter.CreateObservableGauge("churn.batch.running", () => new Measurement<int>(Permits - (int)(limiter.GetStatistics()?.CurrentAvailablePermits ?? 0), settings), "{request}",
            "Multi-row scoring requests holding a turn of the batch gate.");
        meter.CreateObservableGauge("churn.batch.waiting", () => new Measurement<int>((int)(limiter.GetStatistics()?.CurrentQueuedCount ?? 0), settings), "{request}",
            "Multi-row scoring requests waiting for a turn of the batch gate.");
    }

    /// <summary>Requests that may run at once: <see cref="ServerOptions.BatchConcurrency"/>, or the number of cores when that is 0.</summary>
    public int Permits { get; }

    /// <summary>Requests that may wait for a turn (<see cref="ServerOptions.BatchQueueLimit"/>).</summary>
    public int QueueLimit { get; }

    /// <summary>
    /// Waits for a turn and returns it; dispose it when the response is written.
    /// </summary>
    /// <exception cref="BatchesBusyException">As many requests as the queue holds are already waiting.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled while waiting (the client left or the request timed out).</exception>
    public async ValueTask<IDisposable> EnterAsync(CancellationToken ct)
    {
        var lease = await limiter.AcquireAsync(1, ct);
        if (lease.IsAcquired)
        {
            return lease;
        }
        lease.Dispose();
        var statistics = limiter.GetStatistics();
        throw new BatchesBusyException(Permits - (int)(statistics?.CurrentAvailablePermits ?? 0), (int)(statistics?.CurrentQueuedCount ?? QueueLimit));
    }

    public void Dispose() => limiter.Dispose();
}

/// <summary>Puts a multi-row scoring route behind the <see cref="BatchGate"/>.</summary>
public static class BatchGateEndpoints
{
    /// <summary>
    /// The route's request waits for a turn of the <see cref="BatchGate"/> before its handler reads the body, and keeps
    /// it until its response is written; the API description lists the 503 of a full queue.
    /// </summary>
    public static RouteHandlerBuilder WithBatchGate(this RouteHandlerBuilder builder) => builder.ProducesProblem(StatusCodes.Status503ServiceUnavailable).AddEndpointFilter(async (context, next) =>
    {
        var http = context.HttpContext;
        var turn = await http.RequestServices.GetRequiredService<BatchGate>().EnterAsync(http.RequestAborted);
        http.Response.RegisterForDispose(turn);
        return await next(context);
    });
}
