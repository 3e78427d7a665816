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

    /// <summary>Reads every table; the caller provides the transaction that makes the reads one consistent snapshot.</summary>
    public static async Task<StoreSnapshot> ReadAsync(ChurnDbContext db, CancellationToken cancellationToken) => new()
    {
        Runs = await db.Runs.AsNoTracking().ToListAsync(cancellationToken),
        ModelVersions = await db.ModelVersions.AsNoTracking().ToListAsync(cancellationToken),
        Aliases = await db.Aliases.AsNoTracking().ToListAsync(cancellationToken),
        AliasHistory = await db.AliasHistory.AsNoTracking().ToListAsync(cancellationToken),
        PredictionLog = await db.PredictionLog.AsNoTracking().ToListAsync(cancellationToken),
        Feedback = await db.Feedback.AsNoTracking().ToListAsync(cancellationToken),
        MonitoringResults = await db.MonitoringResults.AsNoTracking().ToListAsync(cancellationToken),
        Alerts = await db.Alerts.AsNoTracking().ToListAsync(cancellationToken),
        ShadowPredictions = await db.ShadowPredictions.AsNoTracking().ToListAsync(cancellationToken),
        AuditLog = await db.AuditLog.AsNoTracking().ToListAsync(cancellationToken),
        ApiKeys = await db.ApiKeys.AsNoTracking().ToListAsync(cancellationToken),
        Settings = await db.Settings.AsNoTracking().ToListAsync(cancellationToken),
        MlflowOutbox = await db.MlflowOutbox.AsNoTracking().ToListAsync(cancellationToken),
        Campaigns = await db.Campaigns.AsNoTracking().ToListAsync(cancellationToken),
        CampaignAssignments = await db.CampaignAssignments.AsNoTracking().ToListAsync(cancellationToken),
        CampaignContacts = await db.CampaignContacts.AsNoTracking().ToListAsync(cancellationToken),
    };

    public int RowCount => Runs.Count + ModelVersions.Count + Aliases.Count + AliasHistory.Count + PredictionLog.Count + Feedback.Count
        + MonitoringResults.Count + Alerts.Count + ShadowPredictions.Count + AuditLog.Count + ApiKeys.Count + Settings.Count + MlflowOutbox.Count
        + Campaigns.Count + CampaignAssignments.Count + CampaignContacts.Count;

    /// <summary>Replaces the store's rows with the snapshot's in one transaction, keeping ids.</summary>
    public async Task WriteAsync(ChurnDbContext db, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Children before parents: aliases reference versions, versions reference runs.
        await db.Aliases.ExecuteDeleteAsync(cancellationToken);
        await db.AliasHistory.ExecuteDeleteAsync(cancellationToken);
        await db.ModelVersions.ExecuteDeleteAsync(cancellationToken);
        await db.Runs.ExecuteDeleteAsync(cancellationToken);
        await db.PredictionLog.ExecuteDeleteAsync(cancellationToken);
        await db.Feedback.ExecuteDeleteAsync(cancellationToken);
        await db.MonitoringResults.ExecuteDeleteAsync(cancellationToken);
        await db.Alerts.ExecuteDeleteAsync(cancellationToken);
        await db.ShadowPredictions.ExecuteDeleteAsync(cancellationToken);
        await db.AuditLog.ExecuteDeleteAsync(cancellationToken);
        await db.ApiKeys.ExecuteDeleteAsync(cancellationToken);
        await db.Settings.ExecuteDeleteAsync(cancellationToken);
        await db.MlflowOutbox.ExecuteDeleteAsync(cancellationToken);
        await db.CampaignAssignments.ExecuteDeleteAsync(cancellationToken);
        await db.CampaignContacts.ExecuteDeleteAsync(cancellationToken);
        await db.Campaigns.ExecuteDeleteAsync(cancellationToken);

        db.Runs.AddRange(Runs);
        await db.SaveChangesAsync(cancellationToken);
        db.ModelVersions.AddRange(ModelVersions);
        await db.SaveChangesAsync(cancellationToken);
        db.Aliases.AddRange(Aliases);
        db.AliasHistory.AddRange(AliasHistory);
        db.PredictionLog.AddRange(PredictionLog);
        db.Feedback.AddRange(Feedback);
        db.MonitoringResults.AddRange(MonitoringResults);
        db.Alerts.AddRange(Alerts);
        db.ShadowPredictions.AddRange(ShadowPredictions);
        db.AuditLog.AddRange(AuditLog);
        db.ApiKeys.AddRange(ApiKeys);
        db.Settings.AddRange(Settings);
        db.MlflowOutbox.AddRange(MlflowOutbox);
        db.Campaigns.AddRange(Campaigns);
        await db.SaveChangesAsync(cancellationToken);
        db.CampaignAssignments.AddRange(CampaignAssignments);
        db.CampaignContacts.AddRange(CampaignContacts);
        await db.SaveChangesAsync(cancellationToken);

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
}
