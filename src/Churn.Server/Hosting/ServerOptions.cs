using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Churn.Server.Hosting;

/// <summary>Where the server keeps its data and how it bootstraps a first model. Bound from the "Churn" section.</summary>
public sealed class ServerOptions
{
    public const string Section = "Churn";

    /// <summary>The data directory; defaults to CHURN_DATA_DIR, then ./churn-data.</summary>
    public string DataDir { get; set; } = "";

    /// <summary>The registered model name the server serves.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    public string ModelName { get; set; } = "churn";

    /// <summary>Rows of generated sample data for the first champion when the store has none.</summary>
    [Range(500, 10_000_000)]
    public int SampleRows { get; set; } = 20_000;

    public int SampleSeed { get; set; } = 42;

    /// <summary>Predictions run on typical values after loading a model so that first requests are not slow.</summary>
    [Range(0, 1_000_000)]
    public int WarmUpRows { get; set; } = 2_000;

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

    /// <summary>Predictions buffered in memory before the log writes straight to the spill file.</summary>
    [Range(16, 10_000_000)]
    public int PredictionLogCapacity { get; set; } = 100_000;
}

/// <summary>Fills the defaults that come from the environment rather than from the "Churn" section.</summary>
internal sealed class ServerOptionsDefaults(IConfiguration configuration) : IPostConfigureOptions<ServerOptions>
{
    public void PostConfigure(string? name, ServerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            options.DataDir = configuration["CHURN_DATA_DIR"] is { Length: > 0 } fromEnv ? fromEnv : "churn-data";
        }
        options.DataDir = Path.GetFullPath(options.DataDir);
        if (string.IsNullOrWhiteSpace(options.AdminKey) && configuration["CHURN_ADMIN_KEY"] is { Length: > 0 } key)
        {
            options.AdminKey = key;
        }
    }
}
