namespace Churn.Core.Survival;

/// <summary>
/// What is known about a survival model: how it was trained, on what, and how good it is on held-out customers
/// (C-index, integrated Brier score, calibration at each horizon, and cross-validation when it was run).
/// </summary>
public sealed record SurvivalCard
{
    public const int CurrentFormat = 1;

    /// <summary>Tells a survival package from a classifier's: always "survival".</summary>
    public string Kind { get; init; } = "survival";

    public int Format { get; init; } = CurrentFormat;
    public required string ModelName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required int Seed { get; init; }

    /// <summary>"boostedHazard" or "cox", with the settings the training chose.</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    /// <summary>The schema JSON (see <see cref="SurvivalSchema.ToJson"/>).</summary>
    public required string Schema { get; init; }

    /// <summary>The time grid of the curves.</summary>
    public required IReadOnlyList<double> Grid { get; init; }

    /// <summary>The weight of the boosted curves in the mixture with Cox (0 for Cox alone).</summary>
    public double BoostedWeight { get; init; }

    /// <summary>Evaluation on the held-out test customers.</summary>
    public required SurvivalEvaluation Test { get; init; }

    /// <summary>Cross-validation of the recipe, when it was run.</summary>
    public SurvivalCrossValidation? CrossValidation { get; init; }

    public int TrainRows { get; init; }
    public int TestRows { get; init; }

    /// <summary>SHA-256 of the training file.</summary>
    public string? DataFingerprint { get; init; }

    /// <summary>Warnings about the data, such as covariates that track the duration.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// Kaplan–Meier curves of all the customers (training and test) by each categorical covariate, for the dashboard;
    /// null on cards written before they were recorded.
    /// </summary>
    public SegmentSurvival? Segments { get; init; }
}
