using Churn.Core.Evaluation;
using Churn.Core.Training;

namespace Churn.Core.Models;

/// <summary>Permutation importance of one feature: the drop in test AUC when its values are shuffled.</summary>
public sealed record FeatureImportance(string Feature, double AucDrop);

/// <summary>
/// Global importance of one feature: the mean absolute SHAP value over the test rows, in the card's
/// <see cref="ModelCard.ContributionUnit"/>.
/// </summary>
public sealed record FeatureShap(string Feature, double MeanAbsContribution);

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
    /// <summary>2: models blended in log-odds, with tree covers in the package for exact contributions.</summary>
    public const int CurrentFormat = 2;

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

    /// <summary>Mean |SHAP| per feature over the test rows, largest first (empty when the model cannot explain).</summary>
    public IReadOnlyList<FeatureShap> ShapImportance { get; init; } = [];

    /// <summary>
    /// The unit of every contribution this model gives (<see cref="Scoring.ContributionUnits"/>): calibrated log-odds
    /// under Platt calibration, the model's log-odds before calibration under isotonic (not linear, so contributions
    /// cannot be carried through it). Null when the model cannot explain.
    /// </summary>
    public string? ContributionUnit { get; init; }

    /// <summary>The expected log-odds over the training rows in <see cref="ContributionUnit"/>: where every explanation starts.</summary>
    public double? BaseValue { get; init; }
    public required IReadOnlyList<FeatureProfile> Reference { get; init; }
    public required ScoreProfile ScoreReference { get; init; }
    public required IReadOnlyDictionary<string, string> Versions { get; init; }
    public required double TrainingSeconds { get; init; }

    /// <summary>
    /// The typical customer, in schema order: each number at its training median (its mean when there is none) and
    /// each category or yes/no at its most common value; missing when the profile has neither. The dashboard's form
    /// starts here and warm-up scores it.
    /// </summary>
    public FeatureValue[] TypicalCustomer() => [.. Schema.Features.Select(f =>
    {
        var profile = Reference.FirstOrDefault(p => p.Name == f.Name);
        return f.Kind == FeatureKind.Numeric
            ? (profile?.Median ?? profile?.Mean) is { } number ? FeatureValue.Of(number) : FeatureValue.Missing
            : (profile?.Mode ?? profile?.Frequencies.OrderByDescending(p => p.Value).Select(p => p.Key).FirstOrDefault()) is { } text ? FeatureValue.Of(text) : FeatureValue.Missing;
    })];
}
