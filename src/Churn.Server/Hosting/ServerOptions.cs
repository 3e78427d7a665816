using System.ComponentModel.DataAnnotations;
using Churn.Server.Predictions;

namespace Churn.Server.Hosting;

/// <summary>Where the server keeps its data and how it bootstraps a first model. Bound from the "Churn" section.</summary>
public sealed class ServerOptions
{
    public const string Section = "Churn";

    /// <summary>The data directory; defaults to CHURN_DATA_DIR, then ./churn-data (see <see cref="ResolveDataDir"/>).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>The environment variable that names the data directory when none is configured.</summary>
    public const string DataDirVariable = "CHURN_DATA_DIR";

    /// <summary>
    /// The data directory as a full path, resolved the same way by the server and the command line:
    /// <paramref name="given"/> (configuration or a flag) when it is not blank, else <paramref name="fromEnvironment"/>
    /// (the value of <see cref="DataDirVariable"/>) when it is not empty, else <c>./churn-data</c>.
    /// </summary>
    public static string ResolveDataDir(string? given, string? fromEnvironment) =>
        Path.GetFullPath(!string.IsNullOrWhiteSpace(given) ? given : !string.IsNullOrEmpty(fromEnvironment) ? fromEnvironment : "churn-data");

    /// <summary>The registered model name the server serves.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    public string ModelName { get; set; } = Core.Training.TrainingOptions.DefaultModelName;

    /// <summary>Rows of generated sample data for the first champion when the store has none.</summary>
    [Range(500, 10_000_000)]
    public int SampleRows { get; set; } = 20_000;

    public int SampleSeed { get; set; } = 42;

    /// <summary>Predictions run on typical values after loading a model so that first requests are not slow.</summary>
    [Range(0, 1_000_000)]
    public int WarmUpRows { get; set; } = 2_000;

    /// <summary>
    /// The longest the server drives its own request path over loopback after it starts listening and before it reports
    /// ready, so the first real traffic meets compiled code (environment: <c>Churn__RequestWarmUpSeconds</c>; 0: no
    /// warm-up, ready as soon as the champion is loaded). It ends earlier once the compiler settles; see
    /// <see cref="Health.RequestWarmUp"/>.
    /// </summary>
    [Range(0, 300)]
    public int RequestWarmUpSeconds { get; set; } = 20;

    /// <summary>The first admin key; defaults to CHURN_ADMIN_KEY. When neither is set one is generated and printed once.</summary>
    public string? AdminKey { get; set; }

    /// <summary>How often the server checks whether another process moved the champion alias.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ChampionPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest JSON body accepted by the prediction endpoints.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxJsonBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest CSV upload accepted by <c>POST /jobs/score</c> (1 GiB by default); larger uploads get 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Multi-row scoring requests (<c>/predict/batch</c>, V2 inference, MLflow invocations) scored at once; 0, the default,
    /// means one per core. Each already scores its rows on every core; the rest wait their turn (<c>BatchGate</c>).
    /// </summary>
    [Range(0, 1024)]
    public int BatchConcurrency { get; set; }

    /// <summary>Multi-row scoring requests that may wait for a turn; one more is answered 503 with Retry-After.</summary>
    [Range(0, 1_000_000)]
    public int BatchQueueLimit { get; set; } = 1_000;

    /// <summary>Predictions buffered in memory before the log writes straight to the spill file.</summary>
    [Range(16, 10_000_000)]
    public int PredictionLogCapacity { get; set; } = 100_000;

    /// <summary>
    /// When an accepted prediction's journal line reaches the disk itself, not only the OS (environment:
    /// <c>Churn__PredictionJournalFlush</c>): <c>Os</c> (a killed process loses nothing, a power cut may lose the last
    /// moments), <c>GroupCommit</c> (fsync at most every <see cref="PredictionJournalCommitInterval"/>, and a response waits
    /// for the fsync that covers its predictions) or <c>EveryWrite</c> (fsync each line before the next). See docs/reliability.md.
    /// </summary>
    public JournalFlush PredictionJournalFlush { get; set; } = JournalFlush.GroupCommit;

    /// <summary>
    /// The longest a group commit waits to gather more lines before it fsyncs, under heavy load (2,000 journal writes a
    /// second or more, one per request whatever its number of predictions); under light load it fsyncs as soon as a line is
    /// pending. 0: never wait.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan PredictionJournalCommitInterval { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// A prediction journal whose replica has not been seen (no heartbeat in its folder, folder not locked by a live
    /// process) for this long is adopted by a live replica, which replays it into the store once (environment:
    /// <c>Churn__OrphanedJournalAfter</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "30.00:00:00")]
    public TimeSpan OrphanedJournalAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long finished jobs (file scorings, retrainings) are kept in the store, with their upload and result files,
    /// before the leader deletes them (environment: <c>Churn__JobRetention</c>). A result is downloadable until then,
    /// across restarts and from every replica.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan JobRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>redis:6379</c>, <c>host:port,password=...</c>) shared by every
    /// replica: rate-limit counters, model and settings change notifications, the training lock and the leader lease
    /// live there. Empty means one node: all of that stays in this process and the store (environment: <c>Churn__Redis</c>).
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// A PKCS#12 (.pfx) file whose certificate encrypts the dashboard's data-protection key ring at rest (environment:
    /// <c>Churn__KeyRingCertificate</c>). Required when the ring lives in a PostgreSQL store (no <see cref="Redis"/>);
    /// see <see cref="Coordination.KeyRing"/> for where the ring lives in each case.
    /// </summary>
    public string? KeyRingCertificate { get; set; }

    /// <summary>The password of <see cref="KeyRingCertificate"/> (environment: <c>Churn__KeyRingCertificatePassword</c>).</summary>
    public string? KeyRingCertificatePassword { get; set; }

    /// <summary>
    /// This process's name among the replicas: it names the holder of locks and leases, the <c>X-Churn-Instance</c>
    /// response header and the per-instance journal and spill folders under the data directory, so it must be stable
    /// across restarts of the same replica and different for each replica (environment: <c>Churn__InstanceId</c>).
    /// Defaults to the machine name plus the listening port.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", ErrorMessage = "Churn:InstanceId may hold letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit).")]
    public string InstanceId { get; set; } = "";
}

/// <summary>Fills the defaults that come from the environment rather than from the "Churn" section.</summary>
internal sealed class ServerOptionsDefaults(IConfiguration configuration) : IPostConfigureOptions<ServerOptions>
{
    public void PostConfigure(string? name, ServerOptions options)
    {
        options.DataDir = ServerOptions.ResolveDataDir(options.DataDir, configuration[ServerOptions.DataDirVariable]);
        if (string.IsNullOrWhiteSpace(options.AdminKey) && configuration["CHURN_ADMIN_KEY"] is { Length: > 0 } key)
        {
            options.AdminKey = key;
        }
        if (string.IsNullOrWhiteSpace(options.InstanceId))
        {
            options.InstanceId = DefaultInstanceId(configuration["urls"] ?? configuration["ASPNETCORE_URLS"]);
        }
    }

    /// <summary>
    /// The machine name plus the first listening port: stable across restarts of the same replica, and distinct for
    /// replicas on one host (they cannot share a port), which is what the per-instance journal needs.
    /// </summary>
    internal static string DefaultInstanceId(string? urls)
    {
        var name = new string([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')]).Trim('-', '.', '_');
        if (name.Length == 0)
        {
            name = "churn";
        }
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var port = first is not null && Uri.TryCreate(first.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri.Port
            : new Uri(ChurnServer.DefaultUrl).Port;
        var id = $"{name}-{port}";
        return id.Length > 100 ? id[^100..].TrimStart('-', '.', '_') : id;
    }
}
