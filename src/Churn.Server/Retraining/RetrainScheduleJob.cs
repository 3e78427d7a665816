using Churn.Data.Tracking;
using Churn.Server.Coordination;

namespace Churn.Server.Retraining;

/// <summary>Asks for a retraining every <c>model.retrain_interval</c> when that is set; checks the setting once a minute otherwise.</summary>
public sealed class RetrainScheduleJob(RetrainQueue queue, LeaderElection leader, RuntimeSettings settings, TimeProvider time)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = settings.Model.RetrainInterval;
            await Task.Delay(interval > TimeSpan.Zero ? interval : TimeSpan.FromMinutes(1), time, stoppingToken);
            // One replica keeps the schedule; the others would only be refused by the training lock.
            if (interval <= TimeSpan.Zero || settings.Model.RetrainInterval <= TimeSpan.Zero || !leader.IsLeader)
            {
                continue;
            }
            // Logs and carries on when the request is refused or fails.
            queue.RequestAutomatic(RunTrigger.Schedule, $"scheduled every {interval}");
        }
    }
}
