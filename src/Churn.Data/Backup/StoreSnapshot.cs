using Churn.Data.Campaigns;
using Churn.Data.Mlflow;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Settings;
using Churn.Data.Tracking;

namespace Churn.Data.Backup;

/// <summary>Every row of the store, as plain entities: the provider-neutral export format of backups.</summary>
internal sealed class StoreSnapshot
{
    public List<TrainingRun> Runs { get; set; } = [];
    public List<ModelVersion> ModelVersions { get; set; } = [];
    public List<ModelAlias> Aliases { get; set; } = [];
    public List<AliasHistoryEntry> AliasHistory { get; set; } = [];
    public List<PredictionLogEntry> PredictionLog { get; set; } = [];
    public List<FeedbackEntry> Feedback { get; set; } = [];
    public List<MonitoringResult> MonitoringResults { get; set; } = [];
    public List<Alert> Alerts { get; set; } = [];
    public List<ShadowPrediction> ShadowPredictions { get; set; } = [];
    public List<AuditEntry> AuditLog { get; set; } = [];
    public List<ApiKey> ApiKeys { get; set; } = [];
    public List<Setting> Settings { get; set; } = [];
    public List<MlflowOutboxEntry> MlflowOutbox { get; set; } = [];
    public List<Campaign> Campaigns { get; set; } = [];
    public List<CampaignAssignment> CampaignAssignments { get; set; } = [];
    public List<CampaignContact> CampaignContacts { get; set; } = [];

    // Every table of a backup, once, in the order its rows are written back: each stage is saved before the next, so a
    // row's foreign keys find their rows (versions reference runs, aliases versions, assignments and contacts their
    // campaign); deleting goes the other way, children before parents.
    private static readonly SnapshotTable[][] Stages =
    [
        [Table(db => db.Runs, s => s.Runs)],
        [Table(db => db.ModelVersions, s => s.ModelVersions)],
        [
            Table(db => db.Aliases, s => s.Aliases),
            Table(db => db.AliasHistory, s => s.AliasHistory),
            Table(db => db.PredictionLog, s => s.PredictionLog),
            Table(db => db.Feedback, s => s.Feedback),
            Table(db => db.MonitoringResults, s => s.MonitoringResults),
            Table(db => db.Alerts, s => s.Alerts),
            Table(db => db.ShadowPredictions, s => s.ShadowPredictions),
            Table(db => db.AuditLog, s => s.AuditLog),
            Table(db => db.ApiKeys, s => s.ApiKeys),
            Table(db => db.Settings, s => s.Settings),
            Table(db => db.MlflowOutbox, s => s.MlflowOutbox),
            Table(db => db.Campaigns, s => s.Campaigns),
        ],
        [Table(db => db.CampaignAssignments, s => s.CampaignAssignments), Table(db => db.CampaignContacts, s => s.CampaignContacts)],
    ];

    /// <summary>Reads every table; the caller provides the transaction that makes the reads one consistent snapshot.</summary>
    public static async Task<StoreSnapshot> ReadAsync(ChurnDbContext db, CancellationToken cancellationToken)
    {
        var snapshot = new StoreSnapshot();
        foreach (var table in Stages.SelectMany(stage => stage))
        {
            await table.ReadAsync(db, snapshot, cancellationToken);
        }
        return snapshot;
    }

    public int RowCount => Stages.SelectMany(stage => stage).Sum(table => table.Count(this));

    /// <summary>Replaces the store's rows with the snapshot's in one transaction, keeping ids.</summary>
    public async Task WriteAsync(ChurnDbContext db, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        for (var stage = Stages.Length - 1; stage >= 0; stage--)
        {
            foreach (var table in Stages[stage])
            {
                await table.DeleteAsync(db, cancellationToken);
            }
        }
        foreach (var stage in Stages)
        {
            foreach (var table in stage)
            {
                table.Add(db, this);
            }
            await db.SaveChangesAsync(cancellationToken);
        }

        if (db is PostgresChurnDbContext)
        {
            // Rows were inserted with their ids, which identity columns do not notice; move each sequence past them.
            foreach (var table in new[] { "model_versions", "alias_history", "feedback", "monitoring_results", "shadow_predictions", "audit_log", "mlflow_outbox", "campaign_assignments", "campaign_contacts" })
            {
#pragma warning disable EF1002 // The table names are the constants above, not input.
                await db.Database.ExecuteSqlRawAsync(
                    $"SELECT setval(pg_get_serial_sequence('{table}', 'Id'), COALESCE((SELECT MAX(\"Id\") FROM {table}), 0) + 1, false)",
                    cancellationToken);
#pragma warning restore EF1002
            }
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static SnapshotTable<T> Table<T>(Func<ChurnDbContext, DbSet<T>> set, Func<StoreSnapshot, List<T>> rows)
        where T : class => new(set, rows);

    /// <summary>One table of the store and the snapshot's list of its rows.</summary>
    private abstract class SnapshotTable
    {
        public abstract Task ReadAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken);

        public abstract int Count(StoreSnapshot snapshot);

        public abstract Task DeleteAsync(ChurnDbContext db, CancellationToken cancellationToken);

        public abstract void Add(ChurnDbContext db, StoreSnapshot snapshot);
    }

    private sealed class SnapshotTable<T>(Func<ChurnDbContext, DbSet<T>> set, Func<StoreSnapshot, List<T>> rows) : SnapshotTable
        where T : class
    {
        public override async Task ReadAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken) =>
            rows(snapshot).AddRange(await set(db).AsNoTracking().ToListAsync(cancellationToken));

        public override int Count(StoreSnapshot snapshot) => rows(snapshot).Count;

        public override Task DeleteAsync(ChurnDbContext db, CancellationToken cancellationToken) => set(db).ExecuteDeleteAsync(cancellationToken);

        public override void Add(ChurnDbContext db, StoreSnapshot snapshot) => set(db).AddRange(rows(snapshot));
    }
}
