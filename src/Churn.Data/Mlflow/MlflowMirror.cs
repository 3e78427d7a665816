using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Mlflow;

/// <summary>What one delivery pass did.</summary>
public sealed record MirrorPass(int Delivered, int Pending, string? LastError);

/// <summary>An MLflow REST call that the server refused or could not be made.</summary>
public sealed class MlflowRequestException(string message, HttpStatusCode? status = null, string? errorCode = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;

    public string? ErrorCode { get; } = errorCode;
}

/// <summary>
/// Sends the MLflow outbox to the tracking server in order, over MLflow's REST API 2.0. A failure is recorded on the
/// entry, which waits an exponentially growing delay; the pass stops there, because later operations may depend on it
/// (an alias needs its version, a version needs its run). Nothing here throws to the caller: MLflow is a mirror.
/// </summary>
public sealed class MlflowMirror : IDisposable
{
    // MLflow's documented limits for runs/log-batch and for param values.
    internal const int MaxParamsPerBatch = 100;
    internal const int MaxMetricsPerBatch = 1000;
    internal const int MaxItemsPerBatch = 1000;
    internal const int MaxParamValueLength = 6000;
    private const int MaxAttempts = 50;

    private readonly StoreFactory contexts;
    private readonly MlflowOptions options;
    private readonly TimeProvider time;
    private readonly ILogger log;
    private readonly HttpClient? http;
    private readonly Dictionary<string, string> experimentIds = new(StringComparer.Ordinal);

    public MlflowMirror(StoreFactory contexts, MlflowOptions options, TimeProvider time, ILogger<MlflowMirror>? logger = null)
    {
        this.contexts = contexts;
        this.options = options;
        this.time = time;
        log = logger ?? NullLogger<MlflowMirror>.Instance;
        if (options.Enabled)
        {
            http = new HttpClient { BaseAddress = new Uri(options.TrackingUri!.TrimEnd('/') + "/"), Timeout = options.RequestTimeout };
        }
    }

    public bool Enabled => options.Enabled;

    /// <summary>Operations not yet delivered.</summary>
    public async Task<int> PendingCountAsync(CancellationToken cancellationToken = default)
    {
        await using var db = contexts.CreateDbContext();
        return await db.MlflowOutbox.CountAsync(o => o.DeliveredAt == null, cancellationToken);
    }

    /// <summary>Delivers the due operations, oldest first, until one fails; logs failures instead of throwing them.</summary>
    public async Task<MirrorPass> DeliverPendingAsync(CancellationToken cancellationToken = default)
    {
        if (http is null)
        {
            return new MirrorPass(0, 0, null);
        }
        var delivered = 0;
        string? lastError = null;
        try
        {
            await using var db = contexts.CreateDbContext();
            var pending = await db.MlflowOutbox
                .Where(o => o.DeliveredAt == null && o.Attempts < MaxAttempts)
                .OrderBy(o => o.Id)
                .ToListAsync(cancellationToken);
            foreach (var entry in pending)
            {
                var now = time.GetUtcNow();
                if (entry.NextAttemptAt > now)
                {
                    break;
                }
                try
                {
                    await DeliverAsync(db, entry, cancellationToken);
                    entry.DeliveredAt = time.GetUtcNow();
                    entry.LastError = null;
                    await db.SaveChangesAsync(cancellationToken);
                    delivered++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    entry.Attempts++;
                    entry.LastError = Truncate(ex.Message, 2000);
                    entry.NextAttemptAt = now + RetryDelay(entry.Attempts);
                    await db.SaveChangesAsync(cancellationToken);
                    lastError = ex.Message;
                    log.LogWarning("MLflow mirror: {Kind} #{Id} failed (attempt {Attempt}), retrying after {Next}: {Error}",
                        entry.Kind, entry.Id, entry.Attempts, entry.NextAttemptAt, ex.Message);
                    break;
                }
            }
            return new MirrorPass(delivered, pending.Count - delivered, lastError);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "MLflow mirror: the delivery pass stopped.");
            return new MirrorPass(delivered, -1, ex.Message);
        }
    }

    public void Dispose() => http?.Dispose();

    internal TimeSpan RetryDelay(int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(options.RetryBaseDelay.Ticks * factor, options.MaxRetryDelay.Ticks));
        return delay;
    }

    private async Task DeliverAsync(ChurnDbContext db, MlflowOutboxEntry entry, CancellationToken cancellationToken)
    {
        switch (entry.Kind)
        {
            case MirrorKinds.Run:
                var run = JsonSerializer.Deserialize<RunPayload>(entry.PayloadJson)!;
                await DeliverRunAsync(db, run.RunId, cancellationToken);
                break;
            case MirrorKinds.ModelVersion:
                var version = JsonSerializer.Deserialize<VersionPayload>(entry.PayloadJson)!;
                await DeliverVersionAsync(db, version.ModelName, version.Version, cancellationToken);
                break;
            case MirrorKinds.AliasSet:
                var set = JsonSerializer.Deserialize<AliasPayload>(entry.PayloadJson)!;
                var mlflowVersion = await DeliverVersionAsync(db, set.ModelName, set.Version!.Value, cancellationToken);
                await CallAsync(HttpMethod.Post, "api/2.0/mlflow/registered-models/alias",
                    new JsonObject { ["name"] = set.ModelName, ["alias"] = set.Alias, ["version"] = mlflowVersion }, cancellationToken);
                break;
            case MirrorKinds.AliasDelete:
                var delete = JsonSerializer.Deserialize<AliasPayload>(entry.PayloadJson)!;
                await CallAsync(HttpMethod.Delete, "api/2.0/mlflow/registered-models/alias",
                    new JsonObject { ["name"] = delete.ModelName, ["alias"] = delete.Alias }, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
                break;
            default:
                throw new InvalidOperationException($"Unknown MLflow mirror operation '{entry.Kind}'.");
        }
    }

    private async Task DeliverRunAsync(ChurnDbContext db, Guid runId, CancellationToken cancellationToken)
    {
        var run = await db.Runs.SingleAsync(r => r.Id == runId, cancellationToken);
        var (_, mlflowRunId) = await EnsureRunAsync(db, run, cancellationToken);
        var info = RunTracker.AsInfo(run);
        var timestamp = (run.EndedAt ?? run.StartedAt).ToUnixTimeMilliseconds();
        var parameters = info.Parameters
            .Select(p => new JsonObject { ["key"] = Key(p.Key), ["value"] = Truncate(p.Value, MaxParamValueLength) })
            .ToList();
        var metrics = info.Metrics
            .Where(m => double.IsFinite(m.Value))
            .Select(m => new JsonObject { ["key"] = Key(m.Key), ["value"] = m.Value, ["timestamp"] = timestamp, ["step"] = 0 })
            .ToList();
        foreach (var batch in Batches(parameters, metrics))
        {
            await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/log-batch", new JsonObject
            {
                ["run_id"] = mlflowRunId,
                ["params"] = new JsonArray([.. batch.Params]),
                ["metrics"] = new JsonArray([.. batch.Metrics]),
                ["tags"] = new JsonArray(),
            }, cancellationToken);
        }
        var update = new JsonObject
        {
            ["run_id"] = mlflowRunId,
            ["status"] = run.Status switch
            {
                RunStatus.Finished => "FINISHED",
                RunStatus.Failed => "FAILED",
                _ => "RUNNING",
            },
        };
        if (run.EndedAt is { } ended)
        {
            update["end_time"] = ended.ToUnixTimeMilliseconds();
        }
        await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/update", update, cancellationToken);
    }

    /// <summary>Splits params and metrics into log-batch requests within MLflow's per-request limits.</summary>
    internal static IEnumerable<(IReadOnlyList<JsonObject> Params, IReadOnlyList<JsonObject> Metrics)> Batches(
        IReadOnlyList<JsonObject> parameters, IReadOnlyList<JsonObject> metrics)
    {
        int p = 0, m = 0;
        do
        {
            var takeParams = Math.Min(MaxParamsPerBatch, parameters.Count - p);
            var takeMetrics = Math.Min(Math.Min(MaxMetricsPerBatch, MaxItemsPerBatch - takeParams), metrics.Count - m);
            yield return (parameters.Skip(p).Take(takeParams).ToList(), metrics.Skip(m).Take(takeMetrics).ToList());
            p += takeParams;
            m += takeMetrics;
        }
        while (p < parameters.Count || m < metrics.Count);
    }

    /// <summary>Uploads the package as the run's "model" artifact and registers it; returns MLflow's version number.</summary>
    private async Task<string> DeliverVersionAsync(ChurnDbContext db, string modelName, int versionNumber, CancellationToken cancellationToken)
    {
        var version = await db.ModelVersions.SingleAsync(v => v.ModelName == modelName && v.Version == versionNumber, cancellationToken);
        if (version.MlflowVersion is not null)
        {
            return version.MlflowVersion;
        }
        var run = await db.Runs.SingleAsync(r => r.Id == version.RunId, cancellationToken);
        var (experimentId, mlflowRunId) = await EnsureRunAsync(db, run, cancellationToken);

        var file = Path.Combine(contexts.DataDir, version.PackagePath);
        var fileName = Path.GetFileName(file);
        await using (var stream = File.OpenRead(file))
        {
            using var content = new StreamContent(stream);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var response = await http!.PutAsync(
                $"api/2.0/mlflow-artifacts/artifacts/{experimentId}/{mlflowRunId}/artifacts/model/{Uri.EscapeDataString(fileName)}",
                content, cancellationToken);
            await EnsureSuccessAsync(response, null, cancellationToken);
        }

        await CallAsync(HttpMethod.Post, "api/2.0/mlflow/registered-models/create",
            new JsonObject { ["name"] = modelName }, cancellationToken, "RESOURCE_ALREADY_EXISTS");
        var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/model-versions/create", new JsonObject
        {
            ["name"] = modelName,
            ["source"] = $"mlflow-artifacts:/{experimentId}/{mlflowRunId}/artifacts/model",
            ["run_id"] = mlflowRunId,
            ["tags"] = new JsonArray(
                new JsonObject { ["key"] = "churn.version", ["value"] = versionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new JsonObject { ["key"] = "churn.sha256", ["value"] = version.Sha256 }),
        }, cancellationToken);
        version.MlflowVersion = created?["model_version"]?["version"]?.ToString()
            ?? throw new MlflowRequestException("model-versions/create answered without model_version.version.");
        await db.SaveChangesAsync(cancellationToken);
        return version.MlflowVersion;
    }

    /// <summary>The MLflow experiment and run of a store run, creating them on first use and remembering the run id.</summary>
    private async Task<(string ExperimentId, string RunId)> EnsureRunAsync(ChurnDbContext db, TrainingRun run, CancellationToken cancellationToken)
    {
        var experimentId = await EnsureExperimentAsync(options.ExperimentPrefix + run.ModelName, cancellationToken);
        if (run.MlflowRunId is null)
        {
            var tags = new JsonArray(
                new JsonObject { ["key"] = "mlflow.runName", ["value"] = RunName(run) },
                new JsonObject { ["key"] = "churn.run_id", ["value"] = run.Id.ToString() },
                new JsonObject { ["key"] = "churn.trigger", ["value"] = run.Trigger.ToString().ToLowerInvariant() });
            if (run.DatasetFingerprint is not null)
            {
                tags.Add(new JsonObject { ["key"] = "churn.dataset_sha256", ["value"] = run.DatasetFingerprint });
            }
            if (run.ParentModelVersion is { } parent)
            {
                tags.Add(new JsonObject { ["key"] = "churn.parent_version", ["value"] = parent.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }
            var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/create", new JsonObject
            {
                ["experiment_id"] = experimentId,
                ["run_name"] = RunName(run),
                ["start_time"] = run.StartedAt.ToUnixTimeMilliseconds(),
                ["tags"] = tags,
            }, cancellationToken);
            run.MlflowRunId = created?["run"]?["info"]?["run_id"]?.GetValue<string>()
                ?? throw new MlflowRequestException("runs/create answered without run.info.run_id.");
            // Saved at once: a retry after a later failure must reuse this MLflow run, not create a second one.
            await db.SaveChangesAsync(cancellationToken);
        }
        return (experimentId, run.MlflowRunId);
    }

    private async Task<string> EnsureExperimentAsync(string name, CancellationToken cancellationToken)
    {
        if (experimentIds.TryGetValue(name, out var cached))
        {
            return cached;
        }
        var found = await CallAsync(HttpMethod.Get, $"api/2.0/mlflow/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}",
            null, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
        var id = found?["experiment"]?["experiment_id"]?.GetValue<string>();
        if (id is null)
        {
            var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/experiments/create", new JsonObject { ["name"] = name }, cancellationToken);
            id = created?["experiment_id"]?.GetValue<string>()
                ?? throw new MlflowRequestException("experiments/create answered without experiment_id.");
        }
        experimentIds[name] = id;
        return id;
    }

    /// <summary>One JSON call; an error whose code is <paramref name="tolerated"/> counts as success with no body.</summary>
    private async Task<JsonNode?> CallAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken, string? tolerated = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await http!.SendAsync(request, cancellationToken);
        if (!await EnsureSuccessAsync(response, tolerated, cancellationToken))
        {
            return null;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
    }

    private static async Task<bool> EnsureSuccessAsync(HttpResponseMessage response, string? tolerated, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return true;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? code = null;
        string? message = null;
        try
        {
            var error = JsonNode.Parse(text);
            code = error?["error_code"]?.GetValue<string>();
            message = error?["message"]?.GetValue<string>();
        }
        catch (JsonException)
        {
            // Not an MLflow error body (a proxy's HTML page, say); the status code is reported instead.
        }
        if (tolerated is not null && code == tolerated)
        {
            return false;
        }
        throw new MlflowRequestException(
            $"MLflow answered {(int)response.StatusCode} {code ?? response.ReasonPhrase} to {response.RequestMessage?.RequestUri?.AbsolutePath}: {Truncate(message ?? text, 300)}",
            response.StatusCode, code);
    }

    private static string RunName(TrainingRun run) => $"{run.ModelName}-{run.StartedAt:yyyyMMdd-HHmmss}";

    /// <summary>MLflow keys allow letters, digits, '_', '-', '.', ' ', '/' and at most 250 characters.</summary>
    private static string Key(string key)
    {
        var chars = key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' or '/' ? c : '_').ToArray();
        return Truncate(new string(chars), 250);
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
