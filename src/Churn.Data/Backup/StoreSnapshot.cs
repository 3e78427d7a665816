using Churn.Data.Campaigns;
using Churn.Data.Jobs;
using Churn.Data.Mlflow;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Settings;
using Churn.Data.Tracking;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Churn.Data.Backup;

/// <summary>
/// Every row of every table of the store, as plain entities: the provider-neutral export format of backups, holding what
/// SQLite's file copy holds (dashboard users, jobs, sign-in counters and the data-protection key ring included).
/// </summary>
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

    // Archives written before these tables were exported lack them: null then, and a restore leaves the tables as they are.
    public List<DashboardUser>? Users { get; set; }
    public List<JobRecord>? Jobs { get; set; }
    public List<SignInCounter>? SignInCounters { get; set; }
    public List<DataProtectionKey>? DataProtectionKeys { get; set; }
    public List<DriftCountsEntry>? DriftCounts { get; set; }

    // Every table of a backup, once, in the order its rows are written back: each stage is saved before the next, so a
    // row's foreign keys find their rows (versions reference runs, aliases versions, assignments and contacts their
    // campaign); deleting goes the other way, children before parents.
    private static readonly SnapshotTable[][] Stages =
    [
        [Table(s => s.Runs)],
        [Table(s => s.ModelVersions)],
        [
            Table(s => s.Aliases),
            Table(s => s.AliasHistory),
            Table(s => s.PredictionLog),
            Table(s => s.Feedback),
            Table(s => s.MonitoringResults),
            Table(s => s.Alerts),
            Table(s => s.ShadowPredictions),
            Table(s => s.AuditLog),
            Table(s => s.ApiKeys),
            Table(s => s.Settings),
            Table(s => s.MlflowOutbox),
            Table(s => s.Campaigns),
            Table(s => s.Users),
            Table(s => s.Jobs),
            Table(s => s.SignInCounters),
            Table(s => s.DataProtectionKeys),
            Table(s => s.DriftCounts),
        ],
        [Table(s => s.CampaignAssignments), Table(s => s.CampaignContacts)],
    ];

    /// <summary>Reads every table; the caller provides the transaction that makes the reads one consistent snapshot.</summary>
    public static async Task<StoreSnapshot> ReadAsync(ChurnDbContext db, CancellationToken cancellationToken)
    {
        var snapshot = new StoreSnapshot { Users = [], Jobs = [], SignInCounters = [], DataProtectionKeys = [], DriftCounts = [] };
        foreach (var table in Stages.SelectMany(stage => stage))
        {
            await table.ReadAsync(db, snapshot, cancellationToken);
        }
        return snapshot;
    }

    public int RowCount => Stages.SelectMany(stage => stage).Sum(table => table.Count(this));

    /// <summary>The entity types a snapshot holds, one per table; a test holds them equal to the store model's.</summary>
    internal static IEnumerable<Type> EntityTypes => Stages.SelectMany(stage => stage).Select(table => table.EntityType);

    /// <summary>Replaces the store's rows with the snapshot's in one transaction, keeping ids.</summary>
    public async Task WriteAsync(ChurnDbContext db, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        for (var stage = Stages.Length - 1; stage >= 0; stage--)
        {
            foreach (var table in Stages[stage])
            {
                await table.DeleteAsync(db, this, cancellationToken);
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
            foreach (var (table, column) in IdentityColumns(db.Model))
            {
#pragma warning disable EF1002 // Table and column names come from the store's own model, not from input.
                await db.Database.ExecuteSqlRawAsync(
                    $"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE((SELECT MAX(\"{column}\") FROM {table}), 0) + 1, false)",
                    cancellationToken);
#pragma warning restore EF1002
            }
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The tables whose integer key the database generates, with that key's column: read from the store's model.</summary>
    internal static IEnumerable<(string Table, string Column)> IdentityColumns(IModel model) =>
        from type in model.GetEntityTypes()
        let key = type.FindPrimaryKey()
        where key is { Properties.Count: 1 } && key.Properties[0].ValueGenerated == ValueGenerated.OnAdd
            && key.Properties[0].ClrType is var clr && (clr == typeof(int) || clr == typeof(long))
        let table = type.GetTableName()
        where table is not null
        select (table, key.Properties[0].GetColumnName());

    // The entity type names the table (the store maps each type once), so only the snapshot's list is given.
    private static SnapshotTable<T> Table<T>(Func<StoreSnapshot, List<T>?> rows)
        where T : class => new(rows);

    /// <summary>One table of the store and the snapshot's list of its rows.</summary>
    private abstract class SnapshotTable
    {
        public abstract Type EntityType { get; }

        public abstract Task ReadAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken);

        public abstract int Count(StoreSnapshot snapshot);

        /// <summary>Deletes the table's rows, unless the snapshot does not hold the table (an older archive).</summary>
        public abstract Task DeleteAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken);

        public abstract void Add(ChurnDbContext db, StoreSnapshot snapshot);
    }

    private sealed class SnapshotTable<T>(Func<StoreSnapshot, List<T>?> rows) : SnapshotTable
        where T : class
    {
        public override Type EntityType => typeof(T);

        public override async Task ReadAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken) =>
            rows(snapshot)!.AddRange(await db.Set<T>().AsNoTracking().ToListAsync(cancellationToken));

        public override int Count(StoreSnapshot snapshot) => rows(snapshot)?.Count ?? 0;

        public override Task DeleteAsync(ChurnDbContext db, StoreSnapshot snapshot, CancellationToken cancellationToken) =>
            rows(snapshot) is null ? Task.CompletedTask : db.Set<T>().ExecuteDeleteAsync(cancellationToken);

        public override void Add(ChurnDbContext db, StoreSnapshot snapshot) => db.Set<T>().AddRange(rows(snapshot) ?? []);
    }
}
