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
    [property: JsonIgnore] string? ResultFile = null)
{
    public string? ResultUrl => ResultFile is null || Status != JobStatus.Succeeded ? null : $"/jobs/{Id}/result";
}

/// <summary>
/// The jobs this process runs (retraining, file scoring) and their progress.
/// REVIEW: job state lives in memory, so a restart forgets it; result files stay in the data directory.
/// </summary>
public sealed class JobBoard(TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, JobState> jobs = new();

    public JobState Create(string kind, string createdBy)
    {
        var job = new JobState(Guid.CreateVersion7(time.GetUtcNow()), kind, JobStatus.Queued, 0, createdBy, time.GetUtcNow());
        jobs[job.Id] = job;
        return job;
    }

    public JobState? Get(Guid id) => jobs.TryGetValue(id, out var job) ? job : null;

    public IEnumerable<JobState> All => jobs.Values;

    public JobState Update(Guid id, Func<JobState, JobState> change) => jobs.AddOrUpdate(id, _ => throw new KeyNotFoundException(), (_, job) => change(job));

    public void Start(Guid id) => Update(id, j => j with { Status = JobStatus.Running, StartedAt = time.GetUtcNow() });

    public void Progress(Guid id, double fraction, long rows = 0) => Update(id, j => j with { Progress = Math.Round(Math.Clamp(fraction, 0, 1), 4), RowsDone = Math.Max(rows, j.RowsDone) });

    public void Succeed(Guid id, string message, int? version = null, string? resultFile = null) =>
        Update(id, j => j with { Status = JobStatus.Succeeded, Progress = 1, FinishedAt = time.GetUtcNow(), Message = message, ModelVersion = version, ResultFile = resultFile });

    public void Fail(Guid id, string error) => Update(id, j => j with { Status = JobStatus.Failed, FinishedAt = time.GetUtcNow(), Error = error });
}
