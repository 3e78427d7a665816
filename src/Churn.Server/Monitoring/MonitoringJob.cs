using Churn.Server.Coordination;
using Churn.Server.Models;

namespace Churn.Server.Monitoring;

/// <summary>
/// Runs the monitoring check every <c>monitoring.check_interval</c>, read again before each wait so a change through
/// <c>PUT /config</c> applies from the next check. A failed check is logged and the next one runs on time.
/// </summary>
public sealed class MonitoringJob(MonitoringCheck check, ModelHost host, LeaderElection leader, RuntimeSettings settings, TimeProvider time, ILogger<MonitoringJob> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(settings.Monitoring.CheckInterval, time, stoppingToken);
            // Replicas share the store, so one check per interval is enough: the leader runs it.
            if (!host.IsReady || !leader.IsLeader)
            {
                continue;
            }
            try
            {
                await check.RunAsync(null, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(ex, "The monitoring check failed; the next one runs in {Interval}.", settings.Monitoring.CheckInterval);
            }
        }
    }
}
