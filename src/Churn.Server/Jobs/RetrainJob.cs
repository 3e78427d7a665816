using System.Threading.Channels;
using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Tracking;
using Churn.Server.Models;

namespace Churn.Server.Jobs;

/// <summary>A queued retraining: which job it is and what to train on.</summary>
public sealed record RetrainOrder(Guid JobId, TrainingRequest Request, string RequestedBy);

/// <summary>
/// Accepts at most one retraining at a time (queued or running): a second request while one is under way is refused
/// rather than queued, since it would train on the same data.
/// </summary>
public sealed class RetrainQueue
{
    private readonly Channel<RetrainOrder> channel = Channel.CreateBounded<RetrainOrder>(1);
    private int busy;

    public ChannelReader<RetrainOrder> Reader => channel.Reader;

    public bool TryEnqueue(RetrainOrder order)
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            return false;
        }
        if (!channel.Writer.TryWrite(order))
        {
            Volatile.Write(ref busy, 0);
            return false;
        }
        return true;
    }

    public void Done() => Volatile.Write(ref busy, 0);
}

/// <summary>Runs retraining off the request path: trains, registers the new version and marks it challenger.</summary>
public sealed class RetrainJob(RetrainQueue queue, JobBoard board, ModelTraining training, ModelRegistry registry, ILogger<RetrainJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var order in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                board.Start(order.JobId);
                var progress = new Progress<double>(p => board.Progress(order.JobId, p));
                var version = await training.TrainAndRegisterAsync(order.Request, RunTrigger.User, order.RequestedBy, progress, stoppingToken);
                await registry.PromoteAsync(version.ModelName, version.Version, ModelAliases.Challenger, order.RequestedBy, "retrained", stoppingToken);
                board.Succeed(order.JobId, $"Registered {version.ModelName} v{version.Version} as challenger; promote it with POST /models/{version.Version}/promote.", version.Version);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                board.Fail(order.JobId, "The server stopped during training.");
                return;
            }
            catch (Exception ex)
            {
                // One failed training must not stop the job: log it, report it on the job and take the next order.
                log.LogError(ex, "Retraining job {Job} failed.", order.JobId);
                board.Fail(order.JobId, ex.Message);
            }
            finally
            {
                queue.Done();
            }
        }
    }
}
