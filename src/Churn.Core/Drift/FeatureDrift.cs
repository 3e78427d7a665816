using System.Text.Json.Serialization;

namespace Churn.Core.Drift;

/// <summary>Drift of one feature (or of the score) between the reference and the current window.</summary>
public sealed record FeatureDrift
{
    private readonly FeatureVerdict? verdict;

    [JsonPropertyName("name")]
    public required string Feature { get; init; }
    public required FeatureKind Kind { get; init; }

    /// <summary>"ks", "wasserstein", "chi2" or "jensen-shannon": the test this feature's window size calls for.</summary>
    public required string Test { get; init; }

    /// <summary>The test statistic; null when the feature got no verdict.</summary>
    public double? Statistic { get; init; }
    public double? PValue { get; init; }

    /// <summary>The threshold the verdict used: a p-value for tests, a distance otherwise.</summary>
    public required double Threshold { get; init; }

    /// <summary>True only for <see cref="FeatureVerdict.Drifted"/>.</summary>
    public required bool Drifted { get; init; }

    /// <summary>
    /// The verdict. Checks stored before verdicts were recorded carry only <see cref="Drifted"/>; they read as drifted or stable.
    /// </summary>
    public FeatureVerdict Verdict
    {
        get => verdict ?? (Drifted ? FeatureVerdict.Drifted : FeatureVerdict.Stable);
        init => verdict = value;
    }

    /// <summary>Why there is no verdict ("8 values: at least 30 are needed for a KS verdict"); null when there is one.</summary>
    public string? Reason { get; init; }

    /// <summary>Population stability index; null when the feature got no verdict.</summary>
    public double? Psi { get; init; }

    /// <summary>Current values present (rows minus missing).</summary>
    public required int CurrentCount { get; init; }

    /// <summary>Share of current rows (0 to 1) without a value for this feature.</summary>
    public double CurrentMissingShare { get; init; }

    /// <summary>Share of reference rows (0 to 1) without a value for this feature.</summary>
    public double ReferenceMissingShare { get; init; }

    /// <summary>
    /// Categorical: levels absent from the reference that hold at least <see cref="DriftOptions.NewLevelShare"/> of the
    /// window's present values, with that share (0 to 1), largest first (at most 10); empty otherwise.
    /// </summary>
    public IReadOnlyDictionary<string, double> NewLevels { get; init; } = new Dictionary<string, double>();

    /// <summary>Categorical: distinct levels in the window (all of them, also those pooled into "other").</summary>
    public int? CurrentLevels { get; init; }

    /// <summary>The feature's permutation importance in the model (AUC drop), 0 for the score.</summary>
    public double Importance { get; init; }

    /// <summary>True when the feature got a verdict (drifted or stable).</summary>
    [JsonIgnore]
    public bool Judged => Verdict is FeatureVerdict.Drifted or FeatureVerdict.Stable;
}
