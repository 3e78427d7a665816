using Churn.Data.Jobs;

namespace Churn.Server.Jobs;

/// <summary>
/// Jobs in the store (<c>jobs</c>): written by the replica that runs them, read by any replica, failed when their
/// replica died with them, and deleted with their files after <see cref="ServerOptions.JobRetention"/>.
/// </summary>
public sealed class JobRecords(StoreFactory store, IOptions<ServerOptions> options)
{
    /// <summary>The folder of a job's upload and result, under the shared data directory.</summary>
    public string FolderOf(Guid id) => Path.Combine(options.Value.DataDir, "jobs", id.ToString("N"));

    /// <summary>Inserts or updates each job's row with its latest state.</summary>
    public async Task SaveAsync(IReadOnlyCollection<JobState> states, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var ids = states.Select(s => s.Id).ToList();
        var rows = await db.Jobs.Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, cancellationToken);
        foreach (var state in states)
        {
            if (!rows.TryGetValue(state.Id, out var row))
            {
                row = new JobRecord { Id = state.Id, Kind = state.Kind, Status = "", CreatedBy = state.CreatedBy, Instance = state.Instance ?? options.Value.InstanceId };
                db.Jobs.Add(row);
            }
            row.Status = state.Status.ToString();
            row.Progress = state.Progress;
            row.RowsDone = state.RowsDone;
            row.CreatedAt = state.CreatedAt;
            row.StartedAt = state.StartedAt;
            row.FinishedAt = state.FinishedAt;
            row.Message = Clip(state.Message);
            row.Error = Clip(state.Error);
            row.ModelVersion = state.ModelVersion;
            row.ResultFile = state.ResultFile is null ? null : Path.GetRelativePath(options.Value.DataDir, state.ResultFile);
            row.UpdatedAt = DateTimeOffset.UtcNow;
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<JobState?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
        return row is null ? null : new JobState(
            row.Id, row.Kind, Enum.Parse<JobStatus>(row.Status), row.Progress, row.CreatedBy, row.CreatedAt, row.StartedAt, row.FinishedAt,
            row.Message, row.Error, row.RowsDone, row.ModelVersion,
            row.ResultFile is null ? null : Path.Combine(options.Value.DataDir, row.ResultFile), row.Instance);
    }

    /// <summary>
    /// Fails the jobs <paramref name="instance"/> left queued or running that were created before
    /// <paramref name="before"/> (a process of it that was killed, or a replica gone for good), saying why, and deletes
    /// their uploads. Returns how many were failed.
    /// </summary>
    public async Task<int> FailAbandonedAsync(string instance, DateTimeOffset before, string reason, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        string[] unfinished = [nameof(JobStatus.Queued), nameof(JobStatus.Running)];
        var abandoned = await db.Jobs.Where(j => j.Instance == instance && unfinished.Contains(j.Status) && j.CreatedAt < before).ToListAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        foreach (var job in abandoned)
        {
            job.Error = Clip($"{reason} It was {job.Status.ToLowerInvariant()} at {job.Progress:P0}.");
            job.Status = nameof(JobStatus.Failed);
            job.FinishedAt = now;
            job.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var job in abandoned)
        {
            TryDelete(Path.Combine(FolderOf(job.Id), "input.csv"));
        }
        return abandoned.Count;
    }

    /// <summary>Deletes jobs finished before <paramref name="cutoff"/> and their folders (uploads, results). Returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var purged = 0;
        while (true)
        {
            await using var db = store.CreateDbContext();
            var batch = await db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff).OrderBy(j => j.FinishedAt).Take(500).Select(j => j.Id).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return purged;
            }
            // Files first: a row whose files are gone is retried harmlessly, a file whose row is gone would never be found again.
            foreach (var id in batch)
            {
                var folder = FolderOf(id);
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            purged += await db.Jobs.Where(j => batch.Contains(j.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    private static string? Clip(string? text) => text is { Length: > 4000 } ? text[..3999] + "…" : text;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Retention removes the folder later.
        }
    }
}
