using Churn.Data.Mlflow;
using Churn.Server.Coordination;
using Churn.Server.Monitoring;

namespace Churn.Server.Mlflow;

/// <summary>
/// Sends the MLflow outbox every <c>Mlflow.DeliveryInterval</c> (10 s) on the leader replica only, so two replicas never
/// create the same MLflow run twice. Runs, versions and alias moves queued by retraining, the API and the dashboard
/// reach MLflow this way. When MLflow cannot take a model's files, an <c>mlflow</c> alert says why (with the usual
/// cool-down); everything else is still delivered. A failed pass is logged and the next one tries again.
/// </summary>
public sealed class MlflowMirrorJob(MlflowMirror mirror, LeaderElection leader, AlertRaiser alerts, TimeProvider time, ILogger<MlflowMirrorJob> log)
    : LeaderIntervalJob(leader, time, log)
{
    protected override TimeSpan Interval => mirror.DeliveryInterval;

    protected override string PassName => "The MLflow mirror pass";

    protected override bool Enabled => mirror.Enabled;

    protected override async Task RunPassAsync(CancellationToken stoppingToken)
    {
        var pass = await mirror.DeliverPendingAsync(stoppingToken);
        if (pass.ArtifactProblem is not null)
        {
            await alerts.RaiseAsync(AlertKinds.Mlflow, "warning", pass.Describe()!, stoppingToken);
        }
    }
}

public static class MlflowMirrorRegistration
{
    /// <summary>Registers the MLflow mirror over the store's configuration and its delivery job (idle when no tracking URI is set).</summary>
    public static IHostApplicationBuilder AddMlflowMirror(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new MlflowMirror(
            sp.GetRequiredService<StoreFactory>(),
            sp.GetRequiredService<StoreConfiguration>().Mlflow,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<MlflowMirror>>()));
        builder.Services.AddHostedService<MlflowMirrorJob>();
        return builder;
    }
}
