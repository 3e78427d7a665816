namespace Churn.Data.Mlflow;

/// <summary>Mirroring to an MLflow tracking server. Bound from the "Mlflow" configuration section; off when no URI is set.</summary>
public sealed class MlflowOptions
{
    /// <summary>Base URI of the MLflow tracking server, e.g. http://mlflow:5000. Empty disables mirroring.</summary>
    public string? TrackingUri { get; set; }

    /// <summary>Runs of model M go to the MLflow experiment named prefix + M.</summary>
    public string ExperimentPrefix { get; set; } = "churn-";

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry waits this long; each further failure doubles it up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    public bool Enabled => !string.IsNullOrWhiteSpace(TrackingUri);
}
