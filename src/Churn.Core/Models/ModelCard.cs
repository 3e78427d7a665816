using Churn.Core.Data;
using Churn.Core.Evaluation;
using Churn.Core.Schema;
using Churn.Core.Training;

namespace Churn.Core.Models;

/// <summary>Permutation importance of one feature: the drop in test AUC when its values are shuffled.</summary>
public sealed record FeatureImportance(string Feature, double AucDrop);

/// <summary>Cross-validation summary: mean and standard deviation of a metric over folds.</summary>
public sealed record MetricSpread(double Mean, double Sd, IReadOnlyList<double> Folds);

/// <summary>K-fold cross-validation of the whole training recipe.</summary>
public sealed record CrossValidationSummary(int Folds, MetricSpread Auc, MetricSpread AucPr, MetricSpread LogLoss, MetricSpread Brier);

/// <summary>Distribution of calibrated scores on held-out data, for score-drift checks.</summary>
public sealed record ScoreProfile(IReadOnlyList<double> BinEdges, IReadOnlyList<double> BinShares, IReadOnlyList<double> Sample, double Mean);

/// <summary>Probability cut-offs of the risk tiers.</summary>
public sealed record RiskTiers(double Medium, double High)
{
    public string Of(double probability) => probability >= High ? "high" : probability >= Medium ? "medium" : "low";
}

/// <summary>
/// Everything needed to trust, reproduce and monitor a model: where its data came from, how it was
/// trained, how good it is on held-out data, how its probabilities are calibrated, its threshold and
/// the training-time distributions drift is measured against.
/// </summary>
public sealed record ModelCard
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string ModelName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required TrainerKind Trainer { get; init; }
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
    public required int Seed { get; init; }
    public required string DataFingerprint { get; init; }
    public required string? DataSource { get; init; }
    public required DatasetSchema Schema { get; init; }
    public required int TrainRows { get; init; }
    public required int TestRows { get; init; }
    public required double TrainChurnRate { get; init; }

    /// <summary>Metrics on the held-out test split, at the chosen threshold, with calibrated probabilities.</summary>
    public required EvaluationReport Metrics { get; init; }
    public CrossValidationSummary? CrossValidation { get; init; }
    public required double Threshold { get; init; }

    /// <summary>"f1" or "profit".</summary>
    public required string ThresholdPolicy { get; init; }
    public BusinessValue? BusinessValue { get; init; }
    public IReadOnlyList<ProfitPoint> ProfitCurve { get; init; } = [];
    public required RiskTiers Tiers { get; init; }
    public required CalibrationModel Calibration { get; init; }

    /// <summary>Brier score on the test split before calibration, to show what calibration bought.</summary>
    public required double UncalibratedBrier { get; init; }
    public required IReadOnlyList<FeatureImportance> Importance { get; init; }
    public required IReadOnlyList<FeatureProfile> Reference { get; init; }
    public required ScoreProfile ScoreReference { get; init; }
    public required IReadOnlyDictionary<string, string> Versions { get; init; }
    public required double TrainingSeconds { get; init; }
}
