namespace Churn.Data.Mlflow;

/// <summary>
/// Mirroring to an MLflow tracking server. Read from the "Mlflow" section of <c>churn.json</c> (and
/// <c>Churn__Mlflow__TrackingUri</c>); off when no URI is set. Names in MLflow are built from templates in which
/// <c>{deployment}</c> and <c>{model}</c> are replaced, so two deployments sharing one MLflow server never write into
/// each other's experiments or registered models.
/// </summary>
public sealed class MlflowOptions
{
    /// <summary>The token that stands for this deployment's name in <see cref="ExperimentName"/> and <see cref="RegisteredModelName"/>.</summary>
    public const string DeploymentPlaceholder = "{deployment}";

    /// <summary>The token that stands for the store's model name in <see cref="ExperimentName"/> and <see cref="RegisteredModelName"/>.</summary>
    public const string ModelPlaceholder = "{model}";

    /// <summary>Base URI of the MLflow tracking server, e.g. http://mlflow:5000. Empty disables mirroring.</summary>
    public string? TrackingUri { get; set; }

    /// <summary>
    /// This deployment's name in MLflow. Empty (the default) means a name generated once per store
    /// (<c>churn-</c> and eight hexadecimal digits), kept in the store so every process and a restored backup use it.
    /// </summary>
    public string? Deployment { get; set; }

    /// <summary>The MLflow experiment that receives the runs of one model.</summary>
    public string ExperimentName { get; set; } = "{deployment}/{model}";

    /// <summary>The MLflow registered model that receives the versions and aliases of one model.</summary>
    public string RegisteredModelName { get; set; } = "{deployment}.{model}";

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry waits this long; each further failure doubles it up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the server sends what is waiting in the outbox.</summary>
    public TimeSpan DeliveryInterval { get; set; } = TimeSpan.FromSeconds(10);

    public bool Enabled => !string.IsNullOrWhiteSpace(TrackingUri);

    /// <summary>
    /// Checks the settings that would otherwise fail only when MLflow answers. Throws <see cref="StoreException"/>
    /// naming the setting: a tracking URI that is not absolute http(s), a name template without <c>{model}</c> (two
    /// models would share one experiment or registered model), or a deployment name with characters MLflow names reject.
    /// </summary>
    public void Validate()
    {
        if (!Enabled)
        {
            return;
        }
        if (!Uri.TryCreate(TrackingUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new StoreException($"Mlflow.TrackingUri '{TrackingUri}' is not an absolute http or https URL.");
        }
        foreach (var (setting, template) in new[] { (nameof(ExperimentName), ExperimentName), (nameof(RegisteredModelName), RegisteredModelName) })
        {
            if (string.IsNullOrWhiteSpace(template) || !template.Contains(ModelPlaceholder, StringComparison.Ordinal))
            {
                throw new StoreException($"Mlflow.{setting} '{template}' must contain {ModelPlaceholder}, or two models would share one MLflow name.");
            }
        }
        if (!string.IsNullOrEmpty(Deployment) && !MlflowNames.IsPlainName(Deployment))
        {
            throw new StoreException($"Mlflow.Deployment '{Deployment}' is not valid: use 1 to 100 letters, digits, '.', '_' or '-'.");
        }
        if (RequestTimeout <= TimeSpan.Zero || RetryBaseDelay <= TimeSpan.Zero || MaxRetryDelay < RetryBaseDelay || DeliveryInterval <= TimeSpan.Zero)
        {
            throw new StoreException("Mlflow.RequestTimeout, RetryBaseDelay and DeliveryInterval must be positive, and MaxRetryDelay at least RetryBaseDelay.");
        }
    }
}
