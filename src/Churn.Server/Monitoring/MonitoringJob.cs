using Churn.Server.Coordination;
using Churn.Server.Models;

namespace Churn.Server.Monitoring;

/// <summary>
/// Runs the monitoring check every <c>monitoring.check_interval</c>, read again before each wait so a change through
/// <c>PUT /config</c> applies from the next check. A failed check is logged and the next one runs on time.
/// </summary>
public sealed class MonitoringJob(MonitoringCheck check, ModelHost host, LeaderElection leader, RuntimeSettings settings, TimeProvider time, ILogger<MonitoringJob> log)
    : LeaderIntervalJob(leader, time, log)
{
    protected override TimeSpan Interval => settings.Monitoring.CheckInterval;

    protected override string PassName => "The monitoring check";

    protected override bool ReadyForPass => host.IsReady;

    protected override Task RunPassAsync(CancellationToken stoppingToken) => check.RunAsync(null, stoppingToken);
}
