using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Churn.Data.Registry;
using Churn.Data.Tracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Mlflow;

/// <summary>What one delivery pass did.</summary>
/// <param name="Delivered">Operations delivered in this pass.</param>
/// <param name="Pending">Operations still waiting after it (retrying, not yet due, or waiting for one they need).</param>
/// <param name="LastError">The last failure of the pass, if any.</param>
/// <param name="ArtifactProblem">Why MLflow could not take a model's files, when that happened; everything else was still sent.</param>
public sealed record MirrorPass(int Delivered, int Pending, string? LastError, string? ArtifactProblem = null)
{
    /// <summary>One line for a person (the CLI prints it), or null when there is nothing to say.</summary>
    public string? Describe()
    {
        if (ArtifactProblem is not null)
        {
            return $"MLflow cannot take the model files: {ArtifactProblem} Runs, versions and aliases are mirrored without them.";
        }
        return LastError is null ? null : $"MLflow mirror pending ({Pending} operations), will retry: {LastError}";
    }
}

/// <summary>The mirror's state as the server's health details and alerts report it.</summary>
/// <param name="Pending">Operations not yet delivered and still being retried.</param>
/// <param name="GivenUp">Operations that failed too often, or that MLflow can never take, and are no longer tried.</param>
/// <param name="OldestPendingSince">When the oldest pending operation was queued.</param>
/// <param name="LastError">The error of the most recently failed pending operation.</param>
/// <param name="ArtifactProblem">Why the newest model's files are not in MLflow, while that is so.</param>
public sealed record MirrorStatus(int Pending, int GivenUp, DateTimeOffset? OldestPendingSince, string? LastError, string? ArtifactProblem);

/// <summary>An MLflow REST call that the server refused or could not be made.</summary>
public class MlflowRequestException(string message, HttpStatusCode? status = null, string? errorCode = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;

    public string? ErrorCode { get; } = errorCode;
}

/// <summary>MLflow cannot store a run's files: its artifact location is not served by the tracking server, or the proxy is off.</summary>
public sealed class MlflowArtifactsException(string message, bool permanent) : MlflowRequestException(message)
{
    /// <summary>True when retrying cannot help (the run's artifact location is fixed when MLflow creates the run).</summary>
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// Sends the MLflow outbox to the tracking server over MLflow's REST API 2.0. Operations that do not need each other are
/// delivered independently: a failure holds back only later operations of the same run, version or alias, and an
/// operation waits (without counting an attempt) for the one it needs: a version for its run to be finished and sent,
/// an alias move for its version. A failure is recorded on the entry, which waits an exponentially growing delay.
/// Nothing here throws to the caller: MLflow is a mirror.
/// </summary>
public sealed class MlflowMirror : IDisposable
{
    // MLflow's documented limits for runs/log-batch, for param values and for run and model version tag values.
    internal const int MaxParamsPerBatch = 100;
    internal const int MaxMetricsPerBatch = 1000;
    internal const int MaxItemsPerBatch = 1000;
    internal const int MaxParamValueLength = 6000;
    internal const int MaxTagValueLength = 5000;
    internal const int MaxAttempts = 50;
    internal const string ArtifactsMissingTag = "churn.artifacts_missing";
    private const string ProxyScheme = "mlflow-artifacts:";

    private readonly StoreFactory contexts;
    private readonly MlflowOptions options;
    private readonly TimeProvider time;
    private readonly ILogger log;
    private readonly HttpClient? http;
    private string? deployment;

    /// <exception cref="StoreException">The MLflow settings are not valid (<see cref="MlflowOptions.Validate"/>).</exception>
    public MlflowMirror(StoreFactory contexts, MlflowOptions options, TimeProvider time, ILogger<MlflowMirror>? logger = null)
    {
        options.Validate();
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

    /// <summary>How often a server delivers.</summary>
    public TimeSpan DeliveryInterval => options.DeliveryInterval;

    /// <summary>Operations not yet delivered (including those given up).</summary>
    public async Task<int> PendingCountAsync(CancellationToken cancellationToken = default)
    {
        await using var db = contexts.CreateDbContext();
        return await db.MlflowOutbox.CountAsync(o => o.DeliveredAt == null, cancellationToken);
    }

    /// <summary>The outbox as health checks and alerts see it; null when mirroring is off.</summary>
    public async Task<MirrorStatus?> StatusAsync(CancellationToken cancellationToken = default)
    {
        if (!Enabled)
        {
            return null;
        }
        await using var db = contexts.CreateDbContext();
        var undelivered = db.MlflowOutbox.AsNoTracking().Where(o => o.DeliveredAt == null);
        var pending = await undelivered.CountAsync(o => o.Attempts < MaxAttempts, cancellationToken);
        var givenUp = await undelivered.CountAsync(o => o.Attempts >= MaxAttempts, cancellationToken);
        var oldest = await undelivered.Where(o => o.Attempts < MaxAttempts).OrderBy(o => o.Id).Select(o => (DateTimeOffset?)o.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        var lastError = await undelivered.Where(o => o.LastError != null).OrderByDescending(o => o.Id).Select(o => o.LastError).FirstOrDefaultAsync(cancellationToken);
        // Only the newest files matter: once MLflow takes files again (the proxy was turned on), the problem is over.
        var newestArtifacts = await db.MlflowOutbox.AsNoTracking().Where(o => o.Kind == MirrorKinds.Artifacts)
            .OrderByDescending(o => o.Id).FirstOrDefaultAsync(cancellationToken);
        var artifactProblem = newestArtifacts is { DeliveredAt: null } ? newestArtifacts.LastError : null;
        return new MirrorStatus(pending, givenUp, oldest, lastError, artifactProblem);
    }

    /// <summary>Delivers the due operations; logs failures instead of throwing them.</summary>
    public async Task<MirrorPass> DeliverPendingAsync(CancellationToken cancellationToken = default)
    {
        if (http is null)
        {
            return new MirrorPass(0, 0, null);
        }
        var pass = new Pass();
        try
        {
            deployment ??= await MlflowNames.DeploymentAsync(contexts, options, time, cancellationToken);
            await using var db = contexts.CreateDbContext();
            var entries = await db.MlflowOutbox
                .Where(o => o.DeliveredAt == null && o.Attempts < MaxAttempts)
                .OrderBy(o => o.Id)
                .ToListAsync(cancellationToken);
            var pending = entries.Select(e => (Entry: e, Target: Target.Of(e))).ToList();
            pass.RunsWaiting.UnionWith(pending.Where(p => p.Entry.Kind == MirrorKinds.Run).Select(p => p.Target.RunId!.Value));
            pass.VersionsWaiting.UnionWith(pending.Where(p => p.Entry.Kind == MirrorKinds.ModelVersion).Select(p => p.Target.Version!));

            // One sweep in dependency order (runs, versions, files, alias moves), each kind oldest first.
            foreach (var (entry, target) in pending.OrderBy(p => Rank(p.Entry.Kind)).ThenBy(p => p.Entry.Id))
            {
                var now = time.GetUtcNow();
                if (pass.Blocked.Contains(target.Group) || entry.NextAttemptAt > now
                    || await WaitsAsync(db, entry, target, pass, cancellationToken))
                {
                    // Later operations on the same object keep their order behind this one.
                    pass.Blocked.Add(target.Group);
                    continue;
                }
                try
                {
                    await DeliverAsync(db, entry, target, pass, cancellationToken);
                    entry.DeliveredAt = time.GetUtcNow();
                    entry.LastError = null;
                    await db.SaveChangesAsync(cancellationToken);
                    pass.Delivered++;
                    if (target.RunId is { } run && entry.Kind == MirrorKinds.Run)
                    {
                        pass.RunsWaiting.Remove(run);
                    }
                    if (entry.Kind == MirrorKinds.ModelVersion)
                    {
                        pass.VersionsWaiting.Remove(target.Version!);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    pass.Blocked.Add(target.Group);
                    entry.Attempts = ex is MlflowArtifactsException { Permanent: true } ? MaxAttempts : entry.Attempts + 1;
                    entry.LastError = Truncate(ex.Message, 2000);
                    entry.NextAttemptAt = now + RetryDelay(entry.Attempts);
                    if (ex is MlflowArtifactsException)
                    {
                        pass.ArtifactProblem = ex.Message;
                    }
                    await db.SaveChangesAsync(cancellationToken);
                    pass.LastError = ex.Message;
                    log.LogWarning("MLflow mirror: {Kind} #{Id} failed (attempt {Attempt}){Retry}: {Error}",
                        entry.Kind, entry.Id, entry.Attempts, entry.Attempts >= MaxAttempts ? ", given up" : $", retrying after {entry.NextAttemptAt:u}", ex.Message);
                }
            }
            var left = await db.MlflowOutbox.CountAsync(o => o.DeliveredAt == null && o.Attempts < MaxAttempts, cancellationToken);
            return new MirrorPass(pass.Delivered, left, pass.LastError, pass.ArtifactProblem);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "MLflow mirror: the delivery pass stopped.");
            return new MirrorPass(pass.Delivered, -1, ex.Message, pass.ArtifactProblem);
        }
    }

    public void Dispose() => http?.Dispose();

    internal TimeSpan RetryDelay(int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(options.RetryBaseDelay.Ticks * factor, options.MaxRetryDelay.Ticks));
        return delay;
    }

    /// <summary>What one pass knows: which objects are held back, which runs and versions still wait to be sent, per-pass caches.</summary>
    private sealed class Pass
    {
        public int Delivered;
        public string? LastError;
        public string? ArtifactProblem;
        public readonly HashSet<string> Blocked = new(StringComparer.Ordinal);
        public readonly HashSet<Guid> RunsWaiting = [];
        public readonly HashSet<string> VersionsWaiting = new(StringComparer.Ordinal);

        // Looked up once per pass, never across passes: someone may delete an experiment in MLflow between two passes.
        public readonly Dictionary<string, string> Experiments = new(StringComparer.Ordinal);
        public readonly HashSet<string> RegisteredModels = new(StringComparer.Ordinal);
    }

    /// <summary>The object an operation is about: its ordering group, and the run or version it names.</summary>
    private sealed record Target(string Group, Guid? RunId, string? Version, string? ModelName, int? VersionNumber, string? Alias)
    {
        public static Target Of(MlflowOutboxEntry entry)
        {
            switch (entry.Kind)
            {
                case MirrorKinds.Run:
                    var run = JsonSerializer.Deserialize<RunPayload>(entry.PayloadJson)!;
                    return new Target($"run:{run.RunId}", run.RunId, null, null, null, null);
                case MirrorKinds.ModelVersion:
                case MirrorKinds.Artifacts:
                    var version = JsonSerializer.Deserialize<VersionPayload>(entry.PayloadJson)!;
                    var key = VersionKey(version.ModelName, version.Version);
                    return new Target($"{entry.Kind}:{key}", null, key, version.ModelName, version.Version, null);
                case MirrorKinds.AliasSet:
                case MirrorKinds.AliasDelete:
                    var alias = JsonSerializer.Deserialize<AliasPayload>(entry.PayloadJson)!;
                    return new Target($"alias:{alias.ModelName}:{alias.Alias}",
                        null, alias.Version is { } v ? VersionKey(alias.ModelName, v) : null, alias.ModelName, alias.Version, alias.Alias);
                default:
                    throw new InvalidOperationException($"Unknown MLflow mirror operation '{entry.Kind}'.");
            }
        }
    }

    private static string VersionKey(string model, int version) => $"{model}:{version.ToString(CultureInfo.InvariantCulture)}";

    private static int Rank(string kind) => kind switch
    {
        MirrorKinds.Run => 0,
        MirrorKinds.ModelVersion => 1,
        MirrorKinds.Artifacts => 2,
        _ => 3,
    };

    /// <summary>True when the operation needs one that has not been sent yet; waiting is not a failure.</summary>
    private static async Task<bool> WaitsAsync(ChurnDbContext db, MlflowOutboxEntry entry, Target target, Pass pass, CancellationToken cancellationToken)
    {
        switch (entry.Kind)
        {
            case MirrorKinds.ModelVersion:
                // MLflow would show a version whose run is still running: wait until the run has ended and been sent.
                var runId = await db.ModelVersions.Where(v => v.ModelName == target.ModelName && v.Version == target.VersionNumber)
                    .Select(v => v.RunId).SingleAsync(cancellationToken);
                var status = await db.Runs.Where(r => r.Id == runId).Select(r => r.Status).SingleAsync(cancellationToken);
                return status == RunStatus.Running || pass.RunsWaiting.Contains(runId);
            case MirrorKinds.AliasSet:
                return pass.VersionsWaiting.Contains(target.Version!);
            default:
                return false;
        }
    }

    private async Task DeliverAsync(ChurnDbContext db, MlflowOutboxEntry entry, Target target, Pass pass, CancellationToken cancellationToken)
    {
        switch (entry.Kind)
        {
            case MirrorKinds.Run:
                await DeliverRunAsync(db, target.RunId!.Value, pass, cancellationToken);
                break;
            case MirrorKinds.ModelVersion:
                await DeliverVersionAsync(db, target.ModelName!, target.VersionNumber!.Value, pass, cancellationToken);
                break;
            case MirrorKinds.Artifacts:
                await DeliverArtifactsAsync(db, target.ModelName!, target.VersionNumber!.Value, pass, cancellationToken);
                break;
            case MirrorKinds.AliasSet:
                var mlflowVersion = await DeliverVersionAsync(db, target.ModelName!, target.VersionNumber!.Value, pass, cancellationToken);
                var registered = RegisteredName(target.ModelName!);
                await CallAsync(HttpMethod.Post, "api/2.0/mlflow/registered-models/alias",
                    new JsonObject { ["name"] = registered, ["alias"] = target.Alias, ["version"] = mlflowVersion }, cancellationToken);
                await TagAliasMoveAsync(db, entry, target, registered, mlflowVersion, cancellationToken);
                break;
            case MirrorKinds.AliasDelete:
                // MLflow answers a delete of an alias that is not set with success, so a repeated delete is harmless.
                await CallAsync(HttpMethod.Delete, "api/2.0/mlflow/registered-models/alias",
                    new JsonObject { ["name"] = RegisteredName(target.ModelName!), ["alias"] = target.Alias }, cancellationToken);
                break;
            default:
                throw new InvalidOperationException($"Unknown MLflow mirror operation '{entry.Kind}'.");
        }
    }

    private string ExperimentName(string model) => MlflowNames.Fill(options.ExperimentName, deployment!, model);

    private string RegisteredName(string model) => MlflowNames.Fill(options.RegisteredModelName, deployment!, model);

    private async Task DeliverRunAsync(ChurnDbContext db, Guid runId, Pass pass, CancellationToken cancellationToken)
    {
        var run = await db.Runs.SingleAsync(r => r.Id == runId, cancellationToken);
        var mlflowRun = await EnsureRunAsync(db, run, pass, cancellationToken);
        var info = RunTracker.AsInfo(run);
        var timestamp = (run.EndedAt ?? run.StartedAt).ToUnixTimeMilliseconds();
        var paramKeys = MlflowNames.UniqueKeys(info.Parameters.Keys);
        var parameters = info.Parameters.Values.Zip(paramKeys)
            .Select(p => new JsonObject { ["key"] = p.Second, ["value"] = Truncate(p.First, MaxParamValueLength) })
            .ToList();
        var metricKeys = MlflowNames.UniqueKeys(info.Metrics.Keys);
        var metrics = info.Metrics.Values.Zip(metricKeys)
            .Select(m => new JsonObject { ["key"] = m.Second, ["value"] = MetricValue(m.First), ["timestamp"] = timestamp, ["step"] = 0 })
            .ToList();
        var tags = await RunTagsAsync(db, run, cancellationToken);
        var first = true;
        foreach (var batch in Batches(parameters, metrics))
        {
            await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/log-batch", new JsonObject
            {
                ["run_id"] = mlflowRun.RunId,
                ["params"] = new JsonArray([.. batch.Params]),
                ["metrics"] = new JsonArray([.. batch.Metrics]),
                // Tags (the user and error, which may have changed since the run was created) ride in the first batch.
                ["tags"] = first ? new JsonArray([.. tags.Select(t => (JsonNode)t.DeepClone())]) : new JsonArray(),
            }, cancellationToken);
            first = false;
        }

        var card = await CardOfRunAsync(db, run.Id, cancellationToken);
        info.Parameters.TryGetValue("dataSource", out var dataSource);
        if (MlflowModelFiles.DatasetInput(run.DatasetFingerprint, dataSource, card) is { } dataset)
        {
            await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/log-inputs",
                new JsonObject { ["run_id"] = mlflowRun.RunId, ["datasets"] = new JsonArray(dataset) }, cancellationToken);
        }

        var update = new JsonObject
        {
            ["run_id"] = mlflowRun.RunId,
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

    /// <summary>
    /// A metric value as MLflow's own client sends it: a JSON number, or for the values JSON has no number for, the
    /// strings "NaN", "Infinity" and "-Infinity" (protobuf's JSON mapping), which MLflow stores as such.
    /// </summary>
    internal static JsonNode MetricValue(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "Infinity",
        double.NegativeInfinity => "-Infinity",
        _ => value,
    };

    /// <summary>Splits params and metrics into log-batch requests within MLflow's per-request limits.</summary>
    internal static IEnumerable<(IReadOnlyList<JsonObject> Params, IReadOnlyList<JsonObject> Metrics)> Batches(
        IReadOnlyList<JsonObject> parameters, IReadOnlyList<JsonObject> metrics)
    {
        int p = 0, m = 0;
        do
        {
            // The first batch also carries up to 20 tags; MLflow counts them in the 1000-item limit.
            var room = MaxItemsPerBatch - (p == 0 && m == 0 ? 20 : 0);
            var takeParams = Math.Min(MaxParamsPerBatch, parameters.Count - p);
            var takeMetrics = Math.Min(Math.Min(MaxMetricsPerBatch, room - takeParams), metrics.Count - m);
            yield return (parameters.Skip(p).Take(takeParams).ToList(), metrics.Skip(m).Take(takeMetrics).ToList());
            p += takeParams;
            m += takeMetrics;
        }
        while (p < parameters.Count || m < metrics.Count);
    }

    /// <summary>
    /// Registers a version in MLflow (once) and returns MLflow's version number. Its files (the package, <c>card.json</c>
    /// and <c>MLmodel</c>) go under the run's own artifact location first, as MLflow's client does. When MLflow cannot
    /// take files there, the version is registered all the same, tagged with the reason, and the files wait in an
    /// operation of their own, so runs, versions and alias moves are never held back by them.
    /// </summary>
    private async Task<string> DeliverVersionAsync(ChurnDbContext db, string modelName, int versionNumber, Pass pass, CancellationToken cancellationToken)
    {
        var version = await db.ModelVersions.SingleAsync(v => v.ModelName == modelName && v.Version == versionNumber, cancellationToken);
        if (version.MlflowVersion is not null)
        {
            return version.MlflowVersion;
        }
        var run = await db.Runs.SingleAsync(r => r.Id == version.RunId, cancellationToken);
        var mlflowRun = await EnsureRunAsync(db, run, pass, cancellationToken);
        var card = MlflowModelFiles.ReadCard(version.CardJson);

        MlflowArtifactsException? filesRefused = null;
        try
        {
            await UploadModelAsync(version, card, mlflowRun, cancellationToken);
        }
        catch (MlflowArtifactsException ex)
        {
            filesRefused = ex;
        }

        var registered = RegisteredName(modelName);
        await EnsureRegisteredModelAsync(registered, pass, cancellationToken);
        var tags = new JsonArray(
            Tag("churn.version", versionNumber.ToString(CultureInfo.InvariantCulture)),
            Tag("churn.model", modelName),
            Tag("churn.deployment", deployment!),
            Tag("churn.sha256", version.Sha256),
            Tag("churn.created_by", version.CreatedBy));
        if (filesRefused is not null)
        {
            tags.Add(Tag(ArtifactsMissingTag, filesRefused.Message));
        }
        var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/model-versions/create", new JsonObject
        {
            ["name"] = registered,
            ["source"] = $"{mlflowRun.ArtifactUri.TrimEnd('/')}/{MlflowModelFiles.ArtifactPath}",
            ["run_id"] = mlflowRun.RunId,
            ["tags"] = tags,
            ["description"] = Description(version, card),
        }, cancellationToken);
        version.MlflowVersion = created?["model_version"]?["version"]?.ToString()
            ?? throw new MlflowRequestException("model-versions/create answered without model_version.version.");
        if (filesRefused is not null)
        {
            var now = time.GetUtcNow();
            var attempts = filesRefused.Permanent ? MaxAttempts : 1;
            db.MlflowOutbox.Add(new MlflowOutboxEntry
            {
                Kind = MirrorKinds.Artifacts,
                PayloadJson = JsonSerializer.Serialize(new VersionPayload(modelName, versionNumber)),
                CreatedAt = now,
                Attempts = attempts,
                NextAttemptAt = now + RetryDelay(attempts),
                LastError = filesRefused.Message,
            });
            pass.ArtifactProblem = filesRefused.Message;
            log.LogWarning("MLflow mirror: {Model} v{Version} registered without its files: {Reason}", modelName, versionNumber, filesRefused.Message);
        }
        await db.SaveChangesAsync(cancellationToken);
        return version.MlflowVersion;
    }

    /// <summary>Sends the files MLflow could not take at registration, and clears the version's tag that said so.</summary>
    private async Task DeliverArtifactsAsync(ChurnDbContext db, string modelName, int versionNumber, Pass pass, CancellationToken cancellationToken)
    {
        var version = await db.ModelVersions.SingleAsync(v => v.ModelName == modelName && v.Version == versionNumber, cancellationToken);
        var run = await db.Runs.SingleAsync(r => r.Id == version.RunId, cancellationToken);
        var mlflowRun = await EnsureRunAsync(db, run, pass, cancellationToken);
        await UploadModelAsync(version, MlflowModelFiles.ReadCard(version.CardJson), mlflowRun, cancellationToken);
        if (version.MlflowVersion is not null)
        {
            await CallAsync(HttpMethod.Delete, "api/2.0/mlflow/model-versions/delete-tag", new JsonObject
            {
                ["name"] = RegisteredName(modelName),
                ["version"] = version.MlflowVersion,
                ["key"] = ArtifactsMissingTag,
            }, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
        }
    }

    /// <summary>
    /// Uploads the package, <c>card.json</c> and <c>MLmodel</c> under <c>&lt;artifact_uri&gt;/model</c> through the
    /// tracking server's artifact proxy (<c>PUT /api/2.0/mlflow-artifacts/artifacts/&lt;path&gt;</c>).
    /// </summary>
    /// <exception cref="MlflowArtifactsException">The run's artifact location is not an <c>mlflow-artifacts:</c> URI
    /// (permanent), or the server answers 503 because it runs with <c>--no-serve-artifacts</c>.</exception>
    private async Task UploadModelAsync(ModelVersion version, Core.Models.ModelCard? card, MlflowRun run, CancellationToken cancellationToken)
    {
        if (ProxyPath(run.ArtifactUri) is not { } root)
        {
            throw new MlflowArtifactsException(
                $"the run's artifact location '{run.ArtifactUri}' is not served by the tracking server (only mlflow-artifacts: locations are); " +
                "start the MLflow server with artifact serving and a default artifact root of mlflow-artifacts:/, or use a new Mlflow.Deployment so new experiments get one.",
                permanent: true);
        }
        var packageFile = Path.Combine(contexts.DataDir, version.PackagePath);
        var packageName = Path.GetFileName(packageFile);
        var folder = $"{root}/{MlflowModelFiles.ArtifactPath}";
        await using (var stream = File.OpenRead(packageFile))
        {
            await PutArtifactAsync($"{folder}/{packageName}", new StreamContent(stream), cancellationToken);
        }
        await PutArtifactAsync($"{folder}/{MlflowModelFiles.CardFileName}", new StringContent(version.CardJson, Encoding.UTF8, "application/json"), cancellationToken);
        var mlModel = MlflowModelFiles.MlModel(card, packageName, run.RunId, DeterministicUuid(version), version.CreatedAt);
        await PutArtifactAsync($"{folder}/{MlflowModelFiles.MlModelFileName}", new StringContent(mlModel, Encoding.UTF8, "text/yaml"), cancellationToken);
    }

    private async Task PutArtifactAsync(string path, HttpContent content, CancellationToken cancellationToken)
    {
        using (content)
        {
            var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
            using var response = await http!.PutAsync($"api/2.0/mlflow-artifacts/artifacts/{escaped}", content, cancellationToken);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new MlflowArtifactsException(
                    $"the MLflow server does not serve artifacts (503 to the artifact upload: {Truncate(body, 200)}); start it without --no-serve-artifacts.",
                    permanent: false);
            }
            await EnsureSuccessAsync(response, null, cancellationToken);
        }
    }

    /// <summary>The path under the artifact proxy of an <c>mlflow-artifacts:</c> URI (with or without a host part); null for any other scheme.</summary>
    internal static string? ProxyPath(string artifactUri)
    {
        if (!artifactUri.StartsWith(ProxyScheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var rest = artifactUri[ProxyScheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            // mlflow-artifacts://host:port/path: the host names the tracking server itself.
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? "" : rest[slash..];
        }
        return rest.Trim('/');
    }

    /// <summary>The same MLmodel UUID for every upload of one version, so a retried upload writes identical files.</summary>
    private static Guid DeterministicUuid(ModelVersion version)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{version.ModelName}/{version.Version}/{version.Sha256}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    private static string Description(ModelVersion version, Core.Models.ModelCard? card)
    {
        var text = new StringBuilder($"{version.ModelName} v{version.Version.ToString(CultureInfo.InvariantCulture)}");
        if (card is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $": {card.Trainer}");
            if (card.Metrics.Auc is { } auc)
            {
                text.Append(CultureInfo.InvariantCulture, $", test AUC {auc:0.###}");
            }
            text.Append(CultureInfo.InvariantCulture, $", threshold {card.Threshold:0.###} ({card.ThresholdPolicy}), {card.TrainRows + card.TestRows} rows");
            if (!string.IsNullOrEmpty(card.DataSource))
            {
                text.Append(CultureInfo.InvariantCulture, $" of {card.DataSource}");
            }
        }
        text.Append(CultureInfo.InvariantCulture, $"; registered by {version.CreatedBy} in Churn (SHA-256 {version.Sha256[..Math.Min(12, version.Sha256.Length)]}).");
        return text.ToString();
    }

    /// <summary>Records on the version who moved the alias onto it, when and why (MLflow keeps no history of alias moves).</summary>
    private async Task TagAliasMoveAsync(ChurnDbContext db, MlflowOutboxEntry entry, Target target, string registered, string mlflowVersion, CancellationToken cancellationToken)
    {
        var moves = await db.AliasHistory.AsNoTracking()
            .Where(h => h.ModelName == target.ModelName && h.Alias == target.Alias && h.Version == target.VersionNumber)
            .OrderBy(h => h.Id).ToListAsync(cancellationToken);
        var move = moves.LastOrDefault(h => h.ValidFrom == entry.CreatedAt) ?? moves.LastOrDefault();
        if (move is null)
        {
            return;
        }
        var prefix = $"churn.{target.Alias}";
        foreach (var (key, value) in new[]
        {
            ($"{prefix}.moved_by", move.MovedBy),
            ($"{prefix}.reason", move.Reason ?? ""),
            ($"{prefix}.moved_at", move.ValidFrom.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
        })
        {
            await CallAsync(HttpMethod.Post, "api/2.0/mlflow/model-versions/set-tag", new JsonObject
            {
                ["name"] = registered,
                ["version"] = mlflowVersion,
                ["key"] = MlflowNames.Key(key),
                ["value"] = Truncate(value, MaxTagValueLength),
            }, cancellationToken);
        }
    }

    /// <summary>Creates the registered model only when MLflow does not know it, so no "already exists" error is provoked.</summary>
    private async Task EnsureRegisteredModelAsync(string name, Pass pass, CancellationToken cancellationToken)
    {
        if (pass.RegisteredModels.Contains(name))
        {
            return;
        }
        var found = await CallAsync(HttpMethod.Get, $"api/2.0/mlflow/registered-models/get?name={Uri.EscapeDataString(name)}", null, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
        if (found is null)
        {
            await CallAsync(HttpMethod.Post, "api/2.0/mlflow/registered-models/create", new JsonObject
            {
                ["name"] = name,
                ["description"] = $"Model versions of the Churn deployment '{deployment}', mirrored from its registry.",
            }, cancellationToken);
        }
        pass.RegisteredModels.Add(name);
    }

    /// <summary>A run as MLflow knows it.</summary>
    private sealed record MlflowRun(string ExperimentId, string RunId, string ArtifactUri);

    /// <summary>
    /// The MLflow run of a store run, created on first use. A run deleted in MLflow is restored (the store is the record
    /// and the run still exists there); a run purged from MLflow's trash is created again.
    /// </summary>
    private async Task<MlflowRun> EnsureRunAsync(ChurnDbContext db, TrainingRun run, Pass pass, CancellationToken cancellationToken)
    {
        if (run.MlflowRunId is not null)
        {
            var found = await CallAsync(HttpMethod.Get, $"api/2.0/mlflow/runs/get?run_id={Uri.EscapeDataString(run.MlflowRunId)}", null, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
            if (found?["run"]?["info"] is { } info)
            {
                var experimentId = info["experiment_id"]!.GetValue<string>();
                await EnsureExperimentActiveAsync(experimentId, cancellationToken);
                if (info["lifecycle_stage"]?.GetValue<string>() == "deleted")
                {
                    await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/restore", new JsonObject { ["run_id"] = run.MlflowRunId }, cancellationToken);
                    log.LogWarning("MLflow mirror: restored MLflow run {RunId}, deleted in MLflow, to mirror more of store run {StoreRun} into it.", run.MlflowRunId, run.Id);
                }
                return new MlflowRun(experimentId, run.MlflowRunId, info["artifact_uri"]!.GetValue<string>());
            }
            log.LogWarning("MLflow mirror: MLflow run {RunId} of store run {StoreRun} no longer exists (purged); creating it again.", run.MlflowRunId, run.Id);
            run.MlflowRunId = null;
        }

        var experiment = await EnsureExperimentAsync(ExperimentName(run.ModelName), pass, cancellationToken);
        var tags = new JsonArray(
            Tag("mlflow.runName", RunName(run)),
            Tag("churn.run_id", run.Id.ToString()),
            Tag("churn.deployment", deployment!),
            Tag("churn.trigger", run.Trigger.ToString().ToLowerInvariant()));
        if (run.DatasetFingerprint is not null)
        {
            tags.Add(Tag("churn.dataset_sha256", run.DatasetFingerprint));
        }
        if (run.ParentModelVersion is { } parent)
        {
            tags.Add(Tag("churn.parent_version", parent.ToString(CultureInfo.InvariantCulture)));
        }
        var user = await UserOfRunAsync(db, run.Id, cancellationToken);
        if (user is not null)
        {
            tags.Add(Tag("mlflow.user", user));
        }
        var body = new JsonObject
        {
            ["experiment_id"] = experiment,
            ["run_name"] = RunName(run),
            ["start_time"] = run.StartedAt.ToUnixTimeMilliseconds(),
            ["tags"] = tags,
        };
        if (user is not null)
        {
            body["user_id"] = user;
        }
        var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/runs/create", body, cancellationToken);
        var createdInfo = created?["run"]?["info"] ?? throw new MlflowRequestException("runs/create answered without run.info.");
        run.MlflowRunId = createdInfo["run_id"]?.GetValue<string>() ?? throw new MlflowRequestException("runs/create answered without run.info.run_id.");
        // Saved at once: a retry after a later failure must reuse this MLflow run, not create a second one.
        await db.SaveChangesAsync(cancellationToken);
        return new MlflowRun(experiment, run.MlflowRunId, createdInfo["artifact_uri"]?.GetValue<string>() ?? "");
    }

    /// <summary>Run tags that are (re)sent with the run's data: the user, and the error of a failed run.</summary>
    private static async Task<List<JsonObject>> RunTagsAsync(ChurnDbContext db, TrainingRun run, CancellationToken cancellationToken)
    {
        var tags = new List<JsonObject>();
        if (await UserOfRunAsync(db, run.Id, cancellationToken) is { } user)
        {
            tags.Add(Tag("mlflow.user", user));
        }
        if (run.Error is not null)
        {
            tags.Add(Tag("churn.error", run.Error));
        }
        return tags;
    }

    /// <summary>Who trained the run: the creator of the version it produced (the CLI's user, or the key or schedule behind a retraining).</summary>
    private static Task<string?> UserOfRunAsync(ChurnDbContext db, Guid runId, CancellationToken cancellationToken) =>
        db.ModelVersions.AsNoTracking().Where(v => v.RunId == runId).OrderBy(v => v.Version).Select(v => v.CreatedBy).FirstOrDefaultAsync(cancellationToken);

    private static async Task<Core.Models.ModelCard?> CardOfRunAsync(ChurnDbContext db, Guid runId, CancellationToken cancellationToken)
    {
        var json = await db.ModelVersions.AsNoTracking().Where(v => v.RunId == runId).OrderBy(v => v.Version).Select(v => v.CardJson).FirstOrDefaultAsync(cancellationToken);
        return json is null ? null : MlflowModelFiles.ReadCard(json);
    }

    /// <summary>
    /// The id of the experiment with this name, creating it when MLflow has none. MLflow finds deleted experiments by
    /// name too and refuses runs in them, and it will not create a second experiment of the same name: a deleted one is
    /// therefore restored, and the restore is logged.
    /// </summary>
    private async Task<string> EnsureExperimentAsync(string name, Pass pass, CancellationToken cancellationToken)
    {
        if (pass.Experiments.TryGetValue(name, out var cached))
        {
            return cached;
        }
        var found = await CallAsync(HttpMethod.Get, $"api/2.0/mlflow/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}",
            null, cancellationToken, "RESOURCE_DOES_NOT_EXIST");
        var id = found?["experiment"]?["experiment_id"]?.GetValue<string>();
        if (id is null)
        {
            var created = await CallAsync(HttpMethod.Post, "api/2.0/mlflow/experiments/create", new JsonObject
            {
                ["name"] = name,
                ["tags"] = new JsonArray(Tag("churn.deployment", deployment!)),
            }, cancellationToken);
            id = created?["experiment_id"]?.GetValue<string>()
                ?? throw new MlflowRequestException("experiments/create answered without experiment_id.");
        }
        else if (found!["experiment"]!["lifecycle_stage"]?.GetValue<string>() == "deleted")
        {
            await RestoreExperimentAsync(id, name, cancellationToken);
        }
        pass.Experiments[name] = id;
        return id;
    }

    private async Task EnsureExperimentActiveAsync(string experimentId, CancellationToken cancellationToken)
    {
        var found = await CallAsync(HttpMethod.Get, $"api/2.0/mlflow/experiments/get?experiment_id={Uri.EscapeDataString(experimentId)}", null, cancellationToken);
        if (found?["experiment"]?["lifecycle_stage"]?.GetValue<string>() == "deleted")
        {
            await RestoreExperimentAsync(experimentId, found["experiment"]!["name"]?.GetValue<string>() ?? experimentId, cancellationToken);
        }
    }

    private async Task RestoreExperimentAsync(string id, string name, CancellationToken cancellationToken)
    {
        await CallAsync(HttpMethod.Post, "api/2.0/mlflow/experiments/restore", new JsonObject { ["experiment_id"] = id }, cancellationToken);
        log.LogWarning("MLflow mirror: restored the MLflow experiment '{Name}' ({Id}), which was deleted in MLflow, to mirror new runs into it.", name, id);
    }

    private static JsonObject Tag(string key, string value) => new() { ["key"] = MlflowNames.Key(key), ["value"] = Truncate(value, MaxTagValueLength) };

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
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not an MLflow error body (a proxy's HTML page, a plain-text 503); the status code and text are reported instead.
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

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
