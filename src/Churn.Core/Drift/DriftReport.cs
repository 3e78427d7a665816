using System.Text.Json.Serialization;

namespace Churn.Core.Drift;

/// <summary>The drift of a window against a model's reference profile.</summary>
public sealed record DriftReport
{
    public required int CurrentRows { get; init; }
    public required IReadOnlyList<FeatureDrift> Features { get; init; }

    /// <summary>Drifted features over features that got a verdict (0 to 1); 0 when none did.</summary>
    [JsonPropertyName("driftShare")]
    public required double DriftedShare { get; init; }

    /// <summary>The dataset verdict of <see cref="DriftOptions.IsDatasetDrift"/>.</summary>
    public required bool DatasetDrift { get; init; }

    /// <summary>The share of judged features above which the dataset counts as drifted, as used for <see cref="DatasetDrift"/>.</summary>
    public double? DatasetDriftShare { get; init; }

    public FeatureDrift? Score { get; init; }

    /// <summary>The domain classifier's multivariate verdict (<see cref="DomainClassifier"/>), when reference rows were at hand.</summary>
    public DomainDrift? Domain { get; init; }

    /// <summary>Drifted features, most important to the model first: where drift hurts most.</summary>
    public required IReadOnlyList<string> DriftedByImportance { get; init; }

    /// <summary>Features that got a verdict (drifted or stable).</summary>
    [JsonIgnore]
    public int JudgedCount => Features.Count(f => f.Judged);

    /// <summary>Features without a verdict (no values, too few values), with the reason.</summary>
    [JsonIgnore]
    public IEnumerable<FeatureDrift> Unjudged => Features.Where(f => !f.Judged);

    /// <summary>One line for people: "2 of 18 features drifted (11 %): no dataset drift; no verdict for 1 (MonthlyCharges: no values in 800 rows ...)".</summary>
    public string Summary()
    {
        var drifted = Features.Count(f => f.Drifted);
        var line = JudgedCount == 0
            ? FormattableString.Invariant($"No drift verdict for any of the {Features.Count} features over {CurrentRows} rows")
            : FormattableString.Invariant($"{drifted} of {JudgedCount} features drifted ({DriftedShare:P0}): {(DatasetDrift ? "dataset drift" : "no dataset drift")}");
        var unjudged = Unjudged.ToList();
        if (unjudged.Count > 0)
        {
            // Features without a verdict for the same reason (all of them, in a tiny window) are named under it once.
            var reasons = unjudged.GroupBy(f => f.Reason).Select(g => $"{string.Join(", ", g.Select(f => f.Feature))}: {g.Key}");
            line += JudgedCount == 0
                ? FormattableString.Invariant($" ({string.Join("; ", reasons)})")
                : FormattableString.Invariant($"; no verdict for {unjudged.Count} ({string.Join("; ", reasons)})");
        }
        return line;
    }
}
