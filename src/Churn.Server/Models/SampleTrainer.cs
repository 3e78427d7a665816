using Churn.Core.Data;
using Churn.Core.Generation;
using Churn.Core.Training;
using Churn.Data.Registry;
using Churn.Data.Retraining;
using Churn.Data.Tracking;

namespace Churn.Server.Models;

/// <summary>Trains on a generated sample (the only data a fresh install has), records the run and registers the result as the next version.</summary>
public sealed class SampleTrainer(
    RunTracker runs,
    ModelRegistry registry,
    ModelChanges changes,
    IOptions<ServerOptions> options,
    ILogger<SampleTrainer> log)
{
    public async Task<ModelVersionInfo> TrainAndRegisterAsync(
        GeneratedSample request,
        RunTrigger trigger,
        string createdBy,
        IProgress<double>? progress,
        CancellationToken cancellationToken)
    {
        var name = options.Value.ModelName;
        var dataDir = options.Value.DataDir;
        var csv = await request.EnsureAsync(dataDir, cancellationToken);
        var dataset = DatasetLoader.Load(csv, CustomerGenerator.Schema);
        var parameters = new Dictionary<string, string>
        {
            ["rows"] = request.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["drift"] = request.Drift.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var trainingOptions = new TrainingOptions { ModelName = name, Seed = request.Seed, DataSource = Path.GetFileName(csv) };
        var training = new Progress<TrainingProgress>(p => progress?.Report(p.Fraction * 0.95));
        var outcome = await RecordedTraining.RunAsync(runs, registry, changes, dataDir, name, trigger, AuditActor.ThisMachine(createdBy), promote: false, parameters, dataset.Fingerprint,
            token => ChurnTrainer.Train(dataset, trainingOptions, training, token).Model, RecordedTraining.Classifier, cancellationToken);
        log.LogInformation("Trained {Model} v{Version} on {Rows} rows (AUC {Auc:0.000}).", name, outcome.Version.Version, request.Rows, outcome.Model.Card.Metrics.Auc);
        progress?.Report(1);
        return outcome.Version;
    }
}
