using Churn.Core.Retraining;
using Churn.Data.Retraining;
using Churn.Server.Jobs;
using Churn.Server.Models;

namespace Churn.Server.Retraining;

/// <summary>
/// Runs queued retrainings off the request path, one at a time, through <see cref="Retrainer"/>: against the serving
/// champion, with the margin in force, on the reference data (the sample generated at first start, else the champion's
/// own training file); a promotion loads and warms the new version before the alias moves. A failed training fails its
/// job and the next order runs. At start it frees a training lock left by a killed earlier process.
/// </summary>
public sealed class RetrainJob(
    RetrainQueue queue,
    JobBoard board,
    Retrainer retrainer,
    TrainingLock trainingLock,
    ModelHost host,
    ModelLoader loader,
    RuntimeSettings settings,
    IOptions<ServerOptions> options,
    ILogger<RetrainJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await trainingLock.ReleaseAbandonedAsync(options.Value.InstanceId, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not check the training lock for an abandoned holder.");
        }
        await foreach (var (jobId, order, held) in queue.Reader.ReadAllAsync(stoppingToken))
        {
            var released = false;
            try
            {
                board.Start(jobId);
                var progress = new Progress<double>(p => board.Progress(jobId, p));
                var outcome = await RunAsync(order, progress, stoppingToken);
                // The lock goes before the job reports success, so whoever sees it succeeded may train at once.
                await held.DisposeAsync();
                released = true;
                board.Succeed(jobId, outcome.Message, outcome.Version);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                board.Fail(jobId, "The server stopped during training.");
                return;
            }
            catch (Exception ex)
            {
                // One failed training must not stop the job: log it, report it on the job and take the next order.
                log.LogError(ex, "Retraining job {Job} failed.", jobId);
                board.Fail(jobId, ex.Message);
            }
            finally
            {
                if (!released)
                {
                    await held.DisposeAsync();
                }
                queue.Done();
            }
            // A training leaves its data, its folds' models and the learners' native buffers behind: give them back rather
            // than keep them resident beside the serving, as after a large file job (ScoringJob).
            var pause = ProcessMemory.ReturnFreeMemory();
            log.LogInformation("Retraining job {Job} done; returned its memory in a {Pause:0} ms collection.", jobId, pause.TotalMilliseconds);
        }
    }

    private async Task<RetrainOutcome> RunAsync(RetrainOrder order, IProgress<double> progress, CancellationToken ct)
    {
        var champion = host.Require();
        var o = options.Value;
        var firstSample = new GeneratedSample(o.SampleRows, o.SampleSeed, 0).PathIn(o.DataDir);
        var reference = order.ReferencePath ?? Retrainer.FindReference(o.DataDir, champion.Card, firstSample)
            ?? throw new FileNotFoundException($"No reference data to retrain on: neither {firstSample} nor the champion's training file is in the data directory.");
        var outcome = await retrainer.TrainAndDecideAsync(
            new RetrainChampion(champion.Name, champion.Version, champion.Scorer.Model),
            order with { ReferencePath = reference },
            new PromotionPolicy(settings.Model.PromotionMargin),
            async (target, move, token) => await loader.MoveChampionAsync(target.Version, move, token),
            progress,
            ct);
        log.LogInformation("Retraining of {Model} ({Trigger}): {Message}", champion.Name, order.Trigger, outcome.Message);
        return outcome;
    }
}
