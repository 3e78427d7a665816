using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Retraining;
using Churn.Data.Tracking;

namespace Churn.Server.Models;

/// <summary>
/// Makes the server ready to score before Kestrel starts listening (hosted services start before the server): trains
/// and promotes a first champion on generated data when there is none, then loads and warms the champion.
/// </summary>
public sealed class ChampionStartup(
    ModelRegistry registry,
    ModelChanges changes,
    SampleTrainer training,
    TrainingLock trainingLock,
    ModelLoader loader,
    StartupNotes notes,
    IOptions<ServerOptions> options,
    ILogger<ChampionStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        while (await registry.GetAliasAsync(o.ModelName, ModelAliases.Champion, cancellationToken) is null)
        {
            // Replicas starting together on an empty store: the one holding the training lock trains the first model,
            // the others wait for its champion instead of each promoting one of their own.
            await using var held = await trainingLock.TryTakeAsync(TrainingLock.ReplicaHolder(o.InstanceId, "first-model"), cancellationToken);
            if (held is null)
            {
                log.LogInformation("Waiting for the first model: {Holder} is training.", await trainingLock.HolderAsync(cancellationToken));
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            if (await registry.GetAliasAsync(o.ModelName, ModelAliases.Champion, cancellationToken) is not null)
            {
                break;
            }
            log.LogInformation("No champion for {Model}: training a first model on {Rows} generated customers (seed {Seed}).", o.ModelName, o.SampleRows, o.SampleSeed);
            var version = await training.TrainAndRegisterAsync(new GeneratedSample(o.SampleRows, o.SampleSeed, 0), RunTrigger.User, "churn serve", null, cancellationToken);
            await changes.PromoteAsync(o.ModelName, version.Version, ModelAliases.Champion, AuditActor.ThisMachine("churn serve"), "first model", cancellationToken);
            notes.TrainedFirstModel = true;
        }
        await loader.ActivateChampionOrPreviousAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
