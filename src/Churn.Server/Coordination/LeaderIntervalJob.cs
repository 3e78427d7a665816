namespace Churn.Server.Coordination;

/// <summary>
/// A background job that runs one pass after every <see cref="Interval"/> on the leader replica only: replicas share the
/// store, so one pass per interval is enough (see <see cref="LeaderElection"/>). The interval is read again before each
/// wait, so a change through <c>PUT /config</c> applies from the next pass. A failed pass is logged and the next one runs
/// on time; the job never ends because of one.
/// </summary>
public abstract class LeaderIntervalJob(LeaderElection leader, TimeProvider time, ILogger log) : BackgroundService
{
    /// <summary>The wait before each pass.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>What the pass is called in the log when it fails, e.g. "The monitoring check".</summary>
    protected abstract string PassName { get; }

    /// <summary>False when the job has nothing to do in this configuration; it then ends at once. True unless overridden.</summary>
    protected virtual bool Enabled => true;

    /// <summary>False to skip a pass even on the leader (while no model is served, for example). True unless overridden.</summary>
    protected virtual bool ReadyForPass => true;

    /// <summary>One pass; an exception it throws is logged and the job waits for the next interval.</summary>
    protected abstract Task RunPassAsync(CancellationToken stoppingToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(Interval, time, stoppingToken);
            if (!ReadyForPass || !leader.IsLeader)
            {
                continue;
            }
            try
            {
                await RunPassAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(ex, "{Pass} failed; the next one runs in {Interval}.", PassName, Interval);
            }
        }
    }
}
