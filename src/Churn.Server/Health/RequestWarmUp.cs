using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Churn.Server.Jobs;
using Churn.Server.Models;
using Churn.Server.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Churn.Server.Health;

/// <summary>
/// Warms the whole request path before readiness is reported. Once Kestrel listens, the server sends itself
/// <c>POST /predict</c> (and every 20th time a <c>POST /predict/batch</c> of <see cref="Predictions.Predictor.ParallelFrom"/> rows, scored on all cores,
/// and once each in 20 the same customer through the interoperability endpoints: <c>POST /invocations</c> as MLflow's
/// <c>dataframe_records</c> and <c>POST /v2/models/{name}/infer</c> as one tensor per feature) over loopback from
/// <see cref="Workers"/> concurrent connections, with the champion's typical customer, until the just-in-time compiler
/// has settled (fewer than <see cref="SettledBelow"/> methods compiled in a second, after at least
/// <see cref="MinimumTime"/>) or <see cref="ServerOptions.RequestWarmUpSeconds"/> have passed. Until then
/// <c>GET /health</c> answers 503 <c>warming</c>, so a load balancer sends no traffic to a replica that would serve it
/// at a third of its speed while the runtime compiles and re-optimises the path (docs/operations.md, "Readiness").
/// Beside the requests, the file-scoring pipeline is rehearsed in process (<see cref="ScoringJob.RehearseAsync"/>, over
/// <see cref="RehearsalRows"/> rows at a time, every other time with SHAP contributions), so the first uploaded file is
/// scored on optimised code too.
/// </summary>
/// <remarks>
/// The warm-up requests carry a key that exists only in this process's memory, is accepted only from a loopback address
/// and only until the warm-up ends; their predictions are scored and answered like any other and take the prediction
/// log's whole way as a rehearsal (serialised, buffered, inserted in a transaction that is rolled back), so that path is
/// compiled too, but are never stored, journaled, counted, shadow-scored or rate-limited. Without a plain-HTTP address to call (tests on an in-memory server, HTTPS
/// only), or with the setting at 0, the warm-up is skipped and readiness does not wait for it.
/// </remarks>
public sealed class RequestWarmUp(
    IServer server, ModelHost host, ScoringJob files, ApiKeyStore keys, IOptions<ServerOptions> options, IHostApplicationLifetime lifetime, ILogger<RequestWarmUp> log) : IHostedService
{
    /// <summary>The claim that marks a warm-up request's principal.</summary>
    public const string Claim = "churn:warm-up";

    /// <summary>
    /// Concurrent connections the warm-up drives: few enough to leave the runtime's compiler a core. At 16 the warm-up's
    /// own requests filled both cores of the benchmark machine, the compiler was still optimising about 400 methods a
    /// second when the budget ran out, and 3,671 methods were compiled in the first 6 s of real load; at 4, 1,110
    /// (bench/NOTES.md).
    /// </summary>
    public const int Workers = 4;

    /// <summary>The pause between two file-scoring rehearsals, for the same reason: the rehearsal scores on every core.</summary>
    public static readonly TimeSpan RehearsalPause = TimeSpan.FromMilliseconds(250);

    /// <summary>The shortest warm-up, so that the first calls of every method are counted before settling is judged.</summary>
    public static readonly TimeSpan MinimumTime = TimeSpan.FromSeconds(2);

    /// <summary>Methods compiled in the last second below which the compiler counts as settled.</summary>
    public const long SettledBelow = 25;

    /// <summary>Rows of one file-scoring rehearsal: many small pieces, so the per-piece code is called as often as in a large file.</summary>
    public const int RehearsalRows = 2_000;

    private readonly byte[] secret = Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? stopping;

    /// <summary>True once the warm-up is over (or was skipped): readiness may be reported.</summary>
    public bool IsFinished => finished.Task.IsCompleted;

    /// <summary>Completes when the warm-up is over.</summary>
    public Task Finished => finished.Task;

    /// <summary>True when <paramref name="user"/> is the warm-up's own principal.</summary>
    public static bool IsWarmUp(ClaimsPrincipal user) => user.HasClaim(c => c.Type == Claim);

    /// <summary>
    /// The warm-up's principal (role analyst) when <paramref name="presented"/> is its key, the warm-up is still running
    /// and the caller is on a loopback address; otherwise null.
    /// </summary>
    public ClaimsPrincipal? Authenticate(string presented, IPAddress? remote)
    {
        if (IsFinished || remote is null || !IPAddress.IsLoopback(remote)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), secret))
        {
            return null;
        }
        return new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "warm-up"), new Claim(ClaimTypes.Role, Roles.Analyst), new Claim(Claim, "true")],
            ApiKeyAuthenticationHandler.SchemeName));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RequestWarmUpSeconds == 0)
        {
            finished.TrySetResult();
            return Task.CompletedTask;
        }
        stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        // Kestrel listens only after every hosted service has started; the warm-up needs it listening.
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => RunAsync(stopping.Token)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        stopping?.Cancel();
        return Task.CompletedTask;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var address = LoopbackAddress();
            var model = host.Current;
            if (address is null || model is null)
            {
                log.LogInformation("The request path is not warmed up: {Reason}.", address is null ? "the server has no plain-HTTP address to call" : "no model is served");
                return;
            }
            await LookUpUnknownKeyAsync(cancellationToken);
            var (count, interop, rows, elapsed, why) = await DriveAsync(address, model, TimeSpan.FromSeconds(options.Value.RequestWarmUpSeconds), cancellationToken);
            log.LogInformation("Warmed up the request path with {Count} requests ({Interop} of them to /invocations and /v2) and {Rows} rehearsed file rows in {Seconds:F1} s ({Why}); reporting ready.",
                count, interop, rows, elapsed.TotalSeconds, why);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            log.LogWarning(ex, "The request path warm-up stopped early; reporting ready anyway.");
        }
        finally
        {
            // The requests and file rehearsals leave megabytes of dead buffers and large-object fragmentation, and the
            // compiler its freed scratch memory in the C heap, that a serving process would otherwise keep (bench/NOTES.md).
            _ = ProcessMemory.ReturnFreeMemory();
            finished.TrySetResult();
        }
    }

    /// <summary>
    /// Looks up a key that cannot exist, so the store query behind every API key's first use is built and compiled before
    /// ready: the warm-up's requests carry a key that is checked in memory, and without this the first request with a
    /// real key paid about 20 ms for it (bench/NOTES.md). A store that does not answer is left to readiness to report.
    /// </summary>
    private async Task LookUpUnknownKeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            _ = await keys.FindAsync(Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogDebug(ex, "The API key lookup was not warmed up.");
        }
    }

    /// <summary>
    /// Sends requests and rehearses file scoring until the compiler settles or the budget is spent; returns how many
    /// requests (and how many of them went to the interoperability endpoints), how many file rows, how long and why it stopped.
    /// </summary>
    private async Task<(long Count, long Interop, long Rows, TimeSpan Elapsed, string Why)> DriveAsync(Uri address, ServingModel model, TimeSpan budget, CancellationToken cancellationToken)
    {
        var features = TypicalFeatures(model);
        var customer = JsonSerializer.Serialize(new { customerId = "warm-up", features }, JsonSerializerOptions.Web);
        var single = Encoding.UTF8.GetBytes(customer);
        var batch = Encoding.UTF8.GetBytes($"{{\"customers\":[{string.Join(',', Enumerable.Repeat(customer, Predictions.Predictor.ParallelFrom))}]}}");
        var mlflow = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["dataframe_records"] = new[] { features } });
        var v2 = JsonSerializer.SerializeToUtf8Bytes(new
        {
            inputs = features.Select(f => new { name = f.Key, shape = new[] { 1 }, datatype = f.Value is double ? "FP64" : "BYTES", data = new[] { f.Value } }),
        });
        var v2Path = $"/v2/models/{Uri.EscapeDataString(model.Name)}/infer";
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Workers, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.Header, Encoding.ASCII.GetString(secret));
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long sent = 0;
        long interop = 0;
        string? failure = null;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sent);
                var (path, body, isInterop) = (n % 20) switch
                {
                    0 => ("/predict/batch", batch, false),
                    7 => ("/invocations", mlflow, true),
                    14 => (v2Path, v2, true),
                    _ => ("/predict", single, false),
                };
                if (isInterop)
                {
                    Interlocked.Increment(ref interop);
                }
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                try
                {
                    using var response = await client.PostAsync(path, content, done.Token);
                    if (!response.IsSuccessStatusCode)
                    {
                        failure ??= $"{path} answered {(int)response.StatusCode}";
                        await done.CancelAsync();
                    }
                }
                catch (OperationCanceledException) when (done.IsCancellationRequested)
                {
                    return;
                }
            }
        })).ToList();
        long rehearsed = 0;
        var file = ScoringJob.RehearsalFile(model, RehearsalRows);
        workers.Add(Task.Run(async () =>
        {
            // Every other round with each row's SHAP values, as a job that asks for contributions scores its rows.
            for (var round = 0; !done.IsCancellationRequested; round++)
            {
                try
                {
                    rehearsed += await files.RehearseAsync(model, file, contributions: round % 2 == 1 && model.Scorer.Model.CanExplain, done.Token);
                    await Task.Delay(RehearsalPause, done.Token);
                }
                catch (OperationCanceledException) when (done.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // File scoring is an extra here: its failure ends the rehearsal, not the requests' warm-up.
                    log.LogWarning(ex, "File scoring was not rehearsed to the end; the first uploaded file may be scored more slowly.");
                    return;
                }
            }
        }));
        var why = $"the {budget.TotalSeconds:F0} s budget was spent";
        var compiled = JitInfo.GetCompiledMethodCount();
        while (!done.IsCancellationRequested && clock.Elapsed < budget)
        {
            // Not cancelled by a failing worker: the loop's condition sees that within the second.
            await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            var now = JitInfo.GetCompiledMethodCount();
            if (clock.Elapsed >= MinimumTime && now - compiled < SettledBelow)
            {
                why = $"the compiler settled: {now - compiled} methods in the last second";
                break;
            }
            compiled = now;
        }
        await done.CancelAsync();
        await Task.WhenAll(workers);
        if (failure is not null)
        {
            throw new InvalidOperationException($"A warm-up request failed: {failure}.");
        }
        return (Interlocked.Read(ref sent), Interlocked.Read(ref interop), rehearsed, clock.Elapsed, why);
    }

    /// <summary>The champion's typical customer (<see cref="Core.Models.ModelCard.TypicalCustomer"/>): feature name to a number, a text or null.</summary>
    private static Dictionary<string, object?> TypicalFeatures(ServingModel model)
    {
        var typical = model.Card.TypicalCustomer();
        var features = new Dictionary<string, object?>();
        for (var f = 0; f < typical.Length; f++)
        {
            features[model.Schema.Features[f].Name] = typical[f] switch
            {
                { IsMissing: true } => null,
                { IsText: true } value => value.Text,
                var value => value.Number,
            };
        }
        return features;
    }

    /// <summary>A loopback URL for the first plain-HTTP address Kestrel listens on (a wildcard host becomes 127.0.0.1).</summary>
    private Uri? LoopbackAddress()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (!address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var uri = new Uri(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
            var hostName = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
            return new UriBuilder(uri) { Host = hostName, Path = "/" }.Uri;
        }
        return null;
    }
}
