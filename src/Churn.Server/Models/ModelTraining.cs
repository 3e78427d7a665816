using Churn.Core.Data;
using Churn.Core.Generation;
using Churn.Core.Training;
using Churn.Data.Registry;
using Churn.Data.Tracking;
using Churn.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Churn.Server.Models;

/// <summary>What to train on: generated customers (the only data source a fresh install has).</summary>
public sealed record TrainingRequest(int Rows, int Seed, double Drift);

/// <summary>Trains on generated data, records the run and registers the result as the next version.</summary>
public sealed class ModelTraining(
    RunTracker runs,
    ModelRegistry registry,
    IOptions<ServerOptions> options,
    ILogger<ModelTraining> log)
{
    public async Task<ModelVersionInfo> TrainAndRegisterAsync(
        TrainingRequest request,
        RunTrigger trigger,
        string createdBy,
        IProgress<double>? progress,
        CancellationToken cancellationToken)
    {
        var name = options.Value.ModelName;
        var dataDir = options.Value.DataDir;
        var csv = await EnsureSampleAsync(dataDir, request, cancellationToken);
        var dataset = DatasetLoader.Load(csv, CustomerGenerator.Schema);
        var parameters = new Dictionary<string, string>
        {
            ["rows"] = request.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["drift"] = request.Drift.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var trainingOptions = new TrainingOptions { ModelName = name, Seed = request.Seed, DataSource = Path.GetFileName(csv) };
        var training = new Progress<TrainingProgress>(p => progress?.Report(p.Fraction * 0.95));
        var outcome = await RecordedTraining.RunAsync(runs, registry, dataDir, name, trigger, createdBy, promote: false, parameters, dataset.Fingerprint,
            token => ChurnTrainer.Train(dataset, trainingOptions, training, token).Model, cancellationToken);
        log.LogInformation("Trained {Model} v{Version} on {Rows} rows (AUC {Auc:0.000}).", name, outcome.Version.Version, request.Rows, outcome.Model.Card.Metrics.Auc);
        progress?.Report(1);
        return outcome.Version;
    }

    /// <summary>Where the generated sample for <paramref name="request"/> lives in the data directory.</summary>
    public static string SamplePath(string dataDir, TrainingRequest request) =>
        Path.Combine(dataDir, "data", $"customers-{request.Rows}-seed{request.Seed}-drift{request.Drift.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}.csv");

    /// <summary>Writes the generated sample unless it already exists, and returns its path.</summary>
    public static async Task<string> EnsureSampleAsync(string dataDir, TrainingRequest request, CancellationToken cancellationToken)
    {
        var csv = SamplePath(dataDir, request);
        await Task.Run(() => WriteSample(csv, request), cancellationToken);
        return csv;
    }

    private static void WriteSample(string path, TrainingRequest request)
    {
        if (File.Exists(path))
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written to a temporary name and renamed, so a half-written file is never mistaken for the sample.
        var temp = path + ".tmp";
        using (var writer = new StreamWriter(temp))
        {
            new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = request.Rows, Seed = request.Seed, Drift = request.Drift }, writer);
        }
        File.Move(temp, path, overwrite: true);
    }
}
