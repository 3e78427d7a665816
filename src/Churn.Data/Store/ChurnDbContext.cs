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
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Churn.Data.Store;

/// <summary>
/// The store. The model is shared; each provider has a subclass only so that it can own its migrations
/// (<see cref="SqliteChurnDbContext"/>, <see cref="PostgresChurnDbContext"/>). It also holds the dashboard's
/// data-protection key ring when the server keeps it in the store (<see cref="IDataProtectionKeyContext"/>).
/// </summary>
public abstract class ChurnDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<TrainingRun> Runs => Set<TrainingRun>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<ModelAlias> Aliases => Set<ModelAlias>();
    public DbSet<AliasHistoryEntry> AliasHistory => Set<AliasHistoryEntry>();
    public DbSet<PredictionLogEntry> PredictionLog => Set<PredictionLogEntry>();
    public DbSet<FeedbackEntry> Feedback => Set<FeedbackEntry>();
    public DbSet<MonitoringResult> MonitoringResults => Set<MonitoringResult>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<ShadowPrediction> ShadowPredictions => Set<ShadowPrediction>();
    public DbSet<DriftCountsEntry> DriftCounts => Set<DriftCountsEntry>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<DashboardUser> Users => Set<DashboardUser>();
    public DbSet<Setting> Settings => Set<Setting>();
    public DbSet<MlflowOutboxEntry> MlflowOutbox => Set<MlflowOutboxEntry>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<CampaignAssignment> CampaignAssignments => Set<CampaignAssignment>();
    public DbSet<CampaignContact> CampaignContacts => Set<CampaignContact>();
    public DbSet<JobRecord> Jobs => Set<JobRecord>();
    public DbSet<SignInCounter> SignInCounters => Set<SignInCounter>();

    /// <summary>The data-protection keys (XML, encrypted with the configured certificate) when the ring is kept in the store.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The provider name as in <see cref="StoreOptions.Provider"/>.</summary>
    public abstract string ProviderName { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TrainingRun>(run =>
        {
            run.ToTable("runs");
            run.HasNames(r => r.ModelName);
            run.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            run.Property(r => r.Trigger).HasConversion<string>().HasMaxLength(16);
            run.Property(r => r.DatasetFingerprint).HasMaxLength(64);
            run.Property(r => r.MlflowRunId).HasMaxLength(64);
            run.HasIndex(r => new { r.ModelName, r.StartedAt });
        });

        modelBuilder.Entity<ModelVersion>(version =>
        {
            version.ToTable("model_versions");
            version.HasNames(v => v.ModelName, v => v.CreatedBy);
            version.Property(v => v.PackagePath).HasMaxLength(1000);
            version.Property(v => v.Sha256).HasMaxLength(64);
            version.Property(v => v.MlflowVersion).HasMaxLength(32);
            // The unique pair is what makes version numbers safe to allocate as max + 1 under concurrency.
            version.HasIndex(v => new { v.ModelName, v.Version }).IsUnique();
            version.HasOne<TrainingRun>().WithMany().HasForeignKey(v => v.RunId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<ModelAlias>(alias =>
        {
            alias.ToTable("model_aliases");
            alias.HasKey(a => new { a.ModelName, a.Alias });
            alias.HasNames(a => a.ModelName);
            alias.Property(a => a.Alias).HasMaxLength(32);
            alias.Property(a => a.ConcurrencyToken).IsConcurrencyToken();
            alias.HasOne<ModelVersion>().WithMany().HasForeignKey(a => new { a.ModelName, a.Version })
                .HasPrincipalKey(v => new { v.ModelName, v.Version }).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<AliasHistoryEntry>(entry =>
        {
            entry.ToTable("alias_history");
            entry.HasNames(h => h.ModelName, h => h.MovedBy);
            entry.Property(h => h.Alias).HasMaxLength(32);
            entry.Property(h => h.Reason).HasMaxLength(2000);
            entry.HasIndex(h => new { h.ModelName, h.Alias, h.ValidFrom });
            // At most one open period per alias, enforced by the database as a second line behind the alias row's token.
            entry.HasIndex(h => new { h.ModelName, h.Alias }).IsUnique()
                .HasFilter("\"ValidTo\" IS NULL").HasDatabaseName("IX_alias_history_open");
        });

        modelBuilder.Entity<PredictionLogEntry>(entry =>
        {
            entry.ToTable("prediction_log");
            entry.Ignore(p => p.Rehearsal);
            entry.HasNames(p => p.ModelName, p => p.CustomerId);
            entry.HasIndex(p => p.Time);
            entry.HasIndex(p => p.CustomerId);
        });

        modelBuilder.Entity<ShadowPrediction>(shadow =>
        {
            shadow.ToTable("shadow_predictions");
            shadow.HasNames(s => s.ModelName);
            shadow.Property(s => s.ChampionTier).HasMaxLength(20);
            shadow.Property(s => s.ChallengerTier).HasMaxLength(20);
            shadow.HasIndex(s => new { s.ModelName, s.ChallengerVersion, s.Time });
            shadow.HasIndex(s => s.PredictionId);
        });

        modelBuilder.Entity<DriftCountsEntry>(counts =>
        {
            counts.ToTable("drift_counts");
            counts.HasNames(c => c.ModelName);
            // One row per bucket and card: a second replica counting the same bucket finds it taken.
            counts.HasIndex(c => new { c.ModelName, c.CardVersion, c.BucketStart }).IsUnique();
            // Retention deletes buckets older than the log it was counted from.
            counts.HasIndex(c => c.BucketStart);
        });

        modelBuilder.Entity<FeedbackEntry>(entry =>
        {
            entry.ToTable("feedback");
            entry.HasNames(f => f.CustomerId);
            entry.HasIndex(f => f.PredictionId);
            entry.HasIndex(f => f.CustomerId);
        });

        modelBuilder.Entity<MonitoringResult>(entry =>
        {
            entry.ToTable("monitoring_results");
            entry.Property(m => m.Kind).HasMaxLength(64);
            entry.HasIndex(m => new { m.Kind, m.Time });
        });

        modelBuilder.Entity<Alert>(entry =>
        {
            entry.ToTable("alerts");
            entry.Property(a => a.Kind).HasMaxLength(64);
            entry.Property(a => a.Severity).HasMaxLength(16);
            entry.HasNames(a => a.AcknowledgedBy);
            entry.HasIndex(a => a.RaisedAt);
        });

        modelBuilder.Entity<Campaign>(campaign =>
        {
            campaign.ToTable("campaigns");
            campaign.HasNames(c => c.Name, c => c.CreatedBy);
            campaign.Property(c => c.Offer).HasMaxLength(1000);
            campaign.Property(c => c.Eligibility).HasMaxLength(32);
            campaign.HasIndex(c => c.CreatedAt);
        });

        modelBuilder.Entity<CampaignAssignment>(assignment =>
        {
            assignment.ToTable("campaign_assignments");
            BelongsToCampaign(assignment);
            assignment.HasNames(a => a.Segment, a => a.AssignedBy);
            assignment.Property(a => a.Arm).HasMaxLength(16);
            // One arm per customer per campaign: the database keeps assignment sticky even under concurrent requests.
            assignment.HasIndex(a => new { a.CampaignId, a.CustomerId }).IsUnique();
        });

        modelBuilder.Entity<CampaignContact>(contact =>
        {
            contact.ToTable("campaign_contacts");
            BelongsToCampaign(contact);
            contact.HasNames(c => c.ContactedBy);
            contact.HasIndex(c => new { c.CampaignId, c.CustomerId });
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("audit_log");
            entry.HasNames(a => a.Actor);
            entry.Property(a => a.Action).HasMaxLength(100);
            entry.Property(a => a.Target).HasMaxLength(500);
            entry.Property(a => a.ClientAddress).HasMaxLength(64);
            entry.HasIndex(a => a.Time);
        });

        modelBuilder.Entity<ApiKey>(entry =>
        {
            entry.ToTable("api_keys");
            entry.HasNames(k => k.Name);
            entry.Property(k => k.Role).HasMaxLength(32);
            entry.Property(k => k.Hash).HasMaxLength(128);
            entry.HasIndex(k => k.Name).IsUnique();
            entry.HasIndex(k => k.Hash).IsUnique();
        });

        modelBuilder.Entity<DashboardUser>(entry =>
        {
            entry.ToTable("dashboard_users");
            entry.Property(u => u.UserName).HasMaxLength(100);
            entry.Property(u => u.PasswordHash).HasMaxLength(256);
            entry.Property(u => u.Role).HasMaxLength(32);
            entry.HasIndex(u => u.UserName).IsUnique();
        });

        modelBuilder.Entity<Setting>(entry =>
        {
            entry.ToTable("settings");
            entry.HasKey(s => s.Key);
            entry.HasNames(s => s.Key, s => s.UpdatedBy);
        });

        modelBuilder.Entity<JobRecord>(job =>
        {
            job.ToTable("jobs");
            job.Property(j => j.Kind).HasMaxLength(32);
            job.Property(j => j.Status).HasMaxLength(16);
            job.HasNames(j => j.CreatedBy);
            job.Property(j => j.Instance).HasMaxLength(100);
            job.Property(j => j.Message).HasMaxLength(4000);
            job.Property(j => j.Error).HasMaxLength(4000);
            job.Property(j => j.ResultFile).HasMaxLength(1000);
            // Start-up looks for its own unfinished jobs; retention for finished ones past their time.
            job.HasIndex(j => new { j.Instance, j.Status });
            job.HasIndex(j => j.FinishedAt);
        });

        modelBuilder.Entity<SignInCounter>(counter =>
        {
            counter.ToTable("sign_in_counters");
            counter.HasKey(c => new { c.Kind, c.Key });
            counter.Property(c => c.Kind).HasMaxLength(16);
            counter.Property(c => c.Key).HasMaxLength(200);
            // The admin's list of lockouts in force, and the pruning of windows that closed.
            counter.HasIndex(c => c.LockedUntil);
            counter.HasIndex(c => c.WindowEnds);
        });

        modelBuilder.Entity<DataProtectionKey>(key =>
        {
            key.ToTable("data_protection_keys");
            key.Property(k => k.FriendlyName).HasMaxLength(200);
        });

        modelBuilder.Entity<MlflowOutboxEntry>(entry =>
        {
            entry.ToTable("mlflow_outbox");
            entry.Property(o => o.Kind).HasMaxLength(32);
            entry.HasIndex(o => new { o.DeliveredAt, o.Id });
        });
    }

    /// <summary>
    /// Ties a campaign's per-customer rows to their campaign: a campaign with assignments or contacts cannot be deleted,
    /// and the customer id is a name column.
    /// </summary>
    private static void BelongsToCampaign<T>(EntityTypeBuilder<T> rows)
        where T : CampaignCustomerRecord
    {
        rows.HasNames(r => r.CustomerId);
        rows.HasOne<Campaign>().WithMany().HasForeignKey(r => r.CampaignId).OnDelete(DeleteBehavior.Restrict);
    }
}
