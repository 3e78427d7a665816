using Churn.Data.Mlflow;

namespace Churn.Data.Tracking;

/// <summary>A run as read back from the store.</summary>
public sealed record RunInfo(
    Guid Id,
    string ModelName,
    RunStatus Status,
    RunTrigger Trigger,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    double? DurationSeconds,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Artifacts,
    string? DatasetFingerprint,
    int? ParentModelVersion,
    string? Error);

/// <summary>Records training runs: start, then exactly one of finish or fail.</summary>
public sealed class RunTracker(IDbContextFactory<ChurnDbContext> contexts, MlflowOutbox outbox, TimeProvider time)
{
    // A metric may be NaN or infinite (a ratio with nothing to divide by); JSON has no number for those, so they are
    // stored as the strings "NaN", "Infinity" and "-Infinity" instead of failing the run.
    private static readonly JsonSerializerOptions MetricsJsonOptions = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Records a new running run and returns its id.</summary>
    public async Task<Guid> StartAsync(
        string modelName,
        RunTrigger trigger = RunTrigger.User,
        IReadOnlyDictionary<string, string>? parameters = null,
        string? datasetFingerprint = null,
        int? parentModelVersion = null,
        CancellationToken cancellationToken = default)
    {
        ModelNames.Validate(modelName);
        var run = new TrainingRun
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            ModelName = modelName,
            ParamsJson = JsonSerializer.Serialize(parameters ?? new Dictionary<string, string>()),
            DatasetFingerprint = datasetFingerprint,
            Status = RunStatus.Running,
            StartedAt = time.GetUtcNow(),
            Trigger = trigger,
            ParentModelVersion = parentModelVersion,
        };
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return run.Id;
    }

    /// <summary>Marks a running run finished with its metrics and artifacts (name to path relative to the data directory).</summary>
    public Task FinishAsync(
        Guid runId,
        IReadOnlyDictionary<string, double> metrics,
        IReadOnlyDictionary<string, string>? artifacts = null,
        CancellationToken cancellationToken = default) =>
        EndAsync(runId, run =>
        {
            run.Status = RunStatus.Finished;
            run.MetricsJson = JsonSerializer.Serialize(metrics, MetricsJsonOptions);
            run.ArtifactsJson = JsonSerializer.Serialize(artifacts ?? new Dictionary<string, string>());
        }, cancellationToken);

    /// <summary>Marks a running run failed with the error that stopped it.</summary>
    public Task FailAsync(Guid runId, string error, CancellationToken cancellationToken = default) =>
        EndAsync(runId, run =>
        {
            run.Status = RunStatus.Failed;
            run.Error = error;
        }, cancellationToken);

    /// <summary>
    /// Marks failed the runs left "running" by a process that died (killed, out of memory, power cut): a run whose folder
    /// under <c>tmp/</c> is still there but whose lock no live process holds. Runs without a folder are left alone, since
    /// they may belong to another machine sharing the store. Returns how many were marked.
    /// </summary>
    public async Task<int> FailAbandonedAsync(string dataDir, CancellationToken cancellationToken = default)
    {
        List<Guid> running;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            running = await db.Runs.Where(r => r.Status == RunStatus.Running).Select(r => r.Id).ToListAsync(cancellationToken);
        }
        var failed = 0;
        foreach (var id in running)
        {
            var folder = RunFolder(dataDir, id);
            if (!Directory.Exists(folder))
            {
                continue;
            }
            FileStream held;
            try
            {
                held = HoldRunLock(dataDir, id);
            }
            catch (IOException)
            {
                // A live process holds it: the run is really running.
                continue;
            }
            await held.DisposeAsync();
            try
            {
                await FailAsync(id, "abandoned: the process running it stopped before it finished", cancellationToken);
                failed++;
            }
            catch (RegistryException)
            {
                // It ended meanwhile.
            }
            Directory.Delete(folder, recursive: true);
        }
        return failed;
    }

    /// <summary>Takes the exclusive OS lock of a run's folder (creating it); throws <see cref="IOException"/> when another process holds it.</summary>
    public static FileStream HoldRunLock(string dataDir, Guid runId)
    {
        var folder = RunFolder(dataDir, runId);
        Directory.CreateDirectory(folder);
        return new FileStream(Path.Combine(folder, ".running"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
    }

    private static string RunFolder(string dataDir, Guid runId) => Path.Combine(dataDir, "tmp", $"run-{runId:N}");

    public async Task<RunInfo?> GetAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        return run is null ? null : AsInfo(run);
    }

    /// <summary>The most recent runs first, optionally of one model.</summary>
    public async Task<IReadOnlyList<RunInfo>> ListAsync(string? modelName = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Runs.AsNoTracking();
        if (modelName is not null)
        {
            query = query.Where(r => r.ModelName == modelName);
        }
        var runs = await query.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).Take(limit).ToListAsync(cancellationToken);
        return runs.Select(AsInfo).ToList();
    }

    internal static RunInfo AsInfo(TrainingRun run) => new(
        run.Id,
        run.ModelName,
        run.Status,
        run.Trigger,
        run.StartedAt,
        run.EndedAt,
        run.DurationSeconds,
        JsonSerializer.Deserialize<Dictionary<string, string>>(run.ParamsJson) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, double>>(run.MetricsJson, MetricsJsonOptions) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, string>>(run.ArtifactsJson) ?? [],
        run.DatasetFingerprint,
        run.ParentModelVersion,
        run.Error);

    private async Task EndAsync(Guid runId, Action<TrainingRun> end, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new RegistryException($"Run {runId} does not exist.");
        if (run.Status != RunStatus.Running)
        {
            throw new RegistryException($"Run {runId} has already ended ({run.Status.ToString().ToLowerInvariant()}).");
        }
        var now = time.GetUtcNow();
        end(run);
        run.EndedAt = now;
        run.DurationSeconds = (now - run.StartedAt).TotalSeconds;
        outbox.Add(db, MirrorKinds.Run, new RunPayload(runId), now);
        await db.SaveChangesAsync(cancellationToken);
    }
}
