using System.Globalization;
using Churn.Core.Models;
using Churn.Data.Registry;
using Churn.Data.Security;

namespace Churn.Data.Tracking;

/// <summary>What a recorded training of a model of any kind produced.</summary>
public sealed record RecordedOutcome<TModel>(Guid RunId, ModelVersionInfo Version, TModel Model, bool Promoted);

/// <summary>How a trained model is stored: written to a package file, described by a card (JSON), summed up by the run's metrics.</summary>
public sealed record ModelPackaging<TModel>(Action<TModel, string> Save, Func<TModel, string> CardJson, Func<TModel, IReadOnlyDictionary<string, double>> Metrics);

/// <summary>
/// Runs a training as a tracked run and registers its model: the run is recorded before the work
/// starts, marked failed if the work throws, and finished only once the model version is registered.
/// The CLI, the server's retraining and the first start all go through here.
/// </summary>
public static class RecordedTraining
{
    /// <summary>How a churn classifier is stored: its package, its card and the card's scalar metrics.</summary>
    public static readonly ModelPackaging<ChurnModel> Classifier =
        new((m, path) => m.Save(path), m => JsonSerializer.Serialize(m.Card, JsonDefaults.Options), m => Metrics(m.Card));

    /// <summary>
    /// Trains a model of any kind (a classifier with <see cref="Classifier"/>, a survival model) as a recorded run:
    /// <paramref name="packaging"/> says how it is written to its package file, what its card is and which metrics the
    /// run records.
    /// </summary>
    public static async Task<RecordedOutcome<TModel>> RunAsync<TModel>(
        RunTracker runs,
        ModelRegistry registry,
        ModelChanges changes,
        string dataDir,
        string modelName,
        RunTrigger trigger,
        AuditActor by,
        bool promote,
        IReadOnlyDictionary<string, string> parameters,
        string? datasetFingerprint,
        Func<CancellationToken, TModel> train,
        ModelPackaging<TModel> packaging,
        CancellationToken cancellationToken = default)
    {
        var parent = await registry.ResolveAliasAsync(modelName, ModelAliases.Champion, cancellationToken);
        var runId = await runs.StartAsync(modelName, trigger, parameters, datasetFingerprint, parent?.Version, cancellationToken);
        var staging = Path.Combine(dataDir, "tmp", $"run-{runId:N}", "model.zip");
        // The run's folder holds an OS lock for as long as this process works on it; the kernel drops the lock when the
        // process dies, which is how a later start tells a run that was killed from one still running (RunTracker.FailAbandonedAsync).
        var running = RunTracker.HoldRunLock(dataDir, runId);
        try
        {
            // Training is CPU-bound and synchronous; it runs off the caller's thread so a server stays responsive.
            var model = await Task.Run(() => train(cancellationToken), cancellationToken);
            packaging.Save(model, staging);
            var version = await changes.RegisterRunAsync(modelName, runId, staging, packaging.CardJson(model), by, cancellationToken);
            await runs.FinishAsync(runId, packaging.Metrics(model), new Dictionary<string, string> { ["model"] = version.PackagePath }, cancellationToken);
            if (promote)
            {
                await changes.PromoteAsync(modelName, version.Version, ModelAliases.Champion, by, $"promoted when trained ({trigger.ToString().ToLowerInvariant()})", cancellationToken);
                version = await registry.GetVersionAsync(modelName, version.Version, cancellationToken) ?? version;
            }
            return new RecordedOutcome<TModel>(runId, version, model, promote);
        }
        catch (Exception ex)
        {
            // The run must not stay "running" forever; the error is recorded and the caller still sees it.
            await runs.FailAsync(runId, ex.Message, CancellationToken.None);
            throw;
        }
        finally
        {
            await running.DisposeAsync();
            if (Directory.Exists(Path.GetDirectoryName(staging)))
            {
                Directory.Delete(Path.GetDirectoryName(staging)!, recursive: true);
            }
        }
    }

    /// <summary>The scalar metrics of a card, as recorded on the run and mirrored to MLflow.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(ModelCard card)
    {
        var m = card.Metrics;
        var metrics = new Dictionary<string, double>
        {
            ["logLoss"] = m.LogLoss,
            ["brier"] = m.Brier,
            ["accuracy"] = m.Accuracy,
            ["precision"] = m.Precision,
            ["recall"] = m.Recall,
            ["f1"] = m.F1,
            ["threshold"] = card.Threshold,
            ["trainingSeconds"] = card.TrainingSeconds,
        };
        if (m.Auc is { } auc)
        {
            metrics["auc"] = auc;
        }
        if (m.AucPr is { } aucPr)
        {
            metrics["aucPr"] = aucPr;
        }
        if (card.CrossValidation is { } cv)
        {
            metrics["cvAucMean"] = cv.Auc.Mean;
            metrics["cvAucSd"] = cv.Auc.Sd;
        }
        return metrics;
    }

    /// <summary>Run parameters recorded before training starts.</summary>
    public static Dictionary<string, string> Parameters(Core.Training.TrainingOptions options, string? dataSource) => new()
    {
        ["trainer"] = options.Trainer.ToString(),
        ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        ["calibration"] = options.Calibration,
        ["thresholdPolicy"] = options.BusinessValue is null ? "f1" : "profit",
        ["dataSource"] = dataSource ?? "",
    };
}
