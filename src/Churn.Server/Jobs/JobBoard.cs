using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace Churn.Server.Jobs;

[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>A job's state as of one moment; replaced as a whole on every change, so readers never see half an update.</summary>
public sealed record JobState(
    Guid Id,
    string Kind,
    JobStatus Status,
    double Progress,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    string? Message = null,
    string? Error = null,
    long RowsDone = 0,
    int? ModelVersion = null,
    [property: JsonIgnore] string? ResultFile = null,
    string? Instance = null)
{
    public string? ResultUrl => ResultFile is null || Status != JobStatus.Succeeded ? null : $"/jobs/{Id}/result";

    /// <summary>
    /// A succeeded job's rows per second, for the jobs that count rows (file scoring): <see cref="RowsDone"/> over the
    /// seconds from <see cref="StartedAt"/> to <see cref="FinishedAt"/>, rounded to a whole row. A scoring job starts with
    /// the upload's first bytes when no job is ahead of it and finishes when its result is ready, so this is the rate
    /// from upload to result. Null while the job is queued or running, when it failed, and when it counted no rows.
    /// </summary>
    public double? RowsPerSecond => Status == JobStatus.Succeeded && RowsDone > 0 && StartedAt is { } started && FinishedAt is { } finished && finished > started
        ? Math.Round(RowsDone / (finished - started).TotalSeconds)
        : null;

    /// <summary>Queued or running.</summary>
    [JsonIgnore]
    public bool Unfinished => Status is JobStatus.Queued or JobStatus.Running;
}

/// <summary>
/// The jobs this process runs (retraining, file scoring) and their progress. Changes are made here in memory, at once,
/// and written to the store's <c>jobs</c> table shortly after by <see cref="JobRecordsJob"/>, so any replica answers
/// <c>GET /jobs/{id}</c> and a restart does not forget a job. A store outage delays the writes, never the jobs.
/// </summary>
public sealed class JobBoard(TimeProvider time, JobRecords records, IOptions<ServerOptions> options)
{
    private readonly ConcurrentDictionary<Guid, JobState> jobs = new();
    private readonly Dictionary<Guid, JobState> unsaved = [];
    private readonly Lock gate = new();
    private readonly SemaphoreSlim changed = new(0);

    public JobState Create(string kind, string createdBy)
    {
        var now = time.GetUtcNow();
        var job = new JobState(Guid.CreateVersion7(now), kind, JobStatus.Queued, 0, createdBy, now, Instance: options.Value.InstanceId);
        lock (gate)
        {
            jobs[job.Id] = job;
            Unsaved(job);
        }
        return job;
    }

    /// <summary>A job this process runs or ran since it started.</summary>
    public JobState? Get(Guid id) => jobs.TryGetValue(id, out var job) ? job : null;

    /// <summary>A job of this process, else of any replica or an earlier run as the store has it; null when neither knows it.</summary>
    public async Task<JobState?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        Get(id) ?? await records.FindAsync(id, cancellationToken);

    /// <summary>The jobs of this process since it started.</summary>
    public IEnumerable<JobState> All => jobs.Values;

    public JobState Update(Guid id, Func<JobState, JobState> change)
    {
        lock (gate)
        {
            var job = jobs.AddOrUpdate(id, _ => throw new KeyNotFoundException(), (_, job) => change(job));
            Unsaved(job);
            return job;
        }
    }

    public void Start(Guid id) => Update(id, j => j with { Status = JobStatus.Running, StartedAt = time.GetUtcNow() });

    public void Progress(Guid id, double fraction, long rows = 0) => Update(id, j => j with { Progress = Math.Round(Math.Clamp(fraction, 0, 1), 4), RowsDone = Math.Max(rows, j.RowsDone) });

    /// <summary>
    /// Marks a job succeeded. <paramref name="rows"/>: the rows it processed in all, for a job that counts them (its
    /// progress reports only every so many rows, so the last ones are counted here).
    /// </summary>
    public void Succeed(Guid id, string message, int? version = null, string? resultFile = null, long? rows = null) =>
        Update(id, j => j with
        {
            Status = JobStatus.Succeeded,
            Progress = 1,
            FinishedAt = time.GetUtcNow(),
            Message = message,
            ModelVersion = version,
            ResultFile = resultFile,
            RowsDone = Math.Max(rows ?? 0, j.RowsDone),
        });

    public void Fail(Guid id, string error) => Update(id, j => j with { Status = JobStatus.Failed, FinishedAt = time.GetUtcNow(), Error = error });

    /// <summary>Waits until a job changed since the last <see cref="TakeUnsaved"/>, at most <paramref name="timeout"/>.</summary>
    internal Task<bool> WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) => changed.WaitAsync(timeout, cancellationToken);

    /// <summary>The latest state of every job changed since the last call; each job once, however often it changed.</summary>
    internal List<JobState> TakeUnsaved()
    {
        lock (gate)
        {
            var taken = unsaved.Values.ToList();
            unsaved.Clear();
            return taken;
        }
    }

    /// <summary>States the store refused, to be written again; a job that changed since keeps its newer state.</summary>
    internal void Requeue(IEnumerable<JobState> states)
    {
        lock (gate)
        {
            foreach (var state in states)
            {
                unsaved.TryAdd(state.Id, state);
            }
        }
    }

    private void Unsaved(JobState job)
    {
        var first = unsaved.Count == 0;
        unsaved[job.Id] = job;
        if (first)
        {
            changed.Release();
        }
    }
}
