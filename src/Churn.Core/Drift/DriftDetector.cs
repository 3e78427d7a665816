using System.Text.Json.Serialization;
using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Schema;

namespace Churn.Core.Drift;

/// <summary>Thresholds of the drift tests. Defaults follow common practice for tabular monitoring.</summary>
public sealed record DriftOptions
{
    /// <summary>At or below this many current values, the statistical tests (KS, chi-squared) are used; above it, distances.</summary>
    public int SmallSampleMax { get; init; } = 1000;

    /// <summary>A test p-value below this means drift.</summary>
    public double PValue { get; init; } = 0.05;

    /// <summary>Wasserstein distance in reference standard deviations above which a numeric feature drifted.</summary>
    public double WassersteinThreshold { get; init; } = 0.1;

    /// <summary>Jensen-Shannon distance above which a categorical feature drifted.</summary>
    public double JensenShannonThreshold { get; init; } = 0.1;

    /// <summary>Share of drifted features at or above which the whole dataset counts as drifted.</summary>
    public double DatasetDriftShare { get; init; } = 0.5;
}

/// <summary>Drift of one feature (or of the score) between the reference and the current window.</summary>
public sealed record FeatureDrift
{
    [JsonPropertyName("name")]
    public required string Feature { get; init; }
    public required FeatureKind Kind { get; init; }

    /// <summary>"ks", "wasserstein", "chi2" or "jensen-shannon".</summary>
    public required string Test { get; init; }
    public required double Statistic { get; init; }
    public double? PValue { get; init; }

    /// <summary>The threshold the verdict used: a p-value for tests, a distance otherwise.</summary>
    public required double Threshold { get; init; }
    public required bool Drifted { get; init; }
    public required double Psi { get; init; }
    public required int CurrentCount { get; init; }

    /// <summary>The feature's permutation importance in the model (AUC drop), 0 for the score.</summary>
    public double Importance { get; init; }
}

/// <summary>The drift of a window against a model's reference profile.</summary>
public sealed record DriftReport
{
    public required int CurrentRows { get; init; }
    public required IReadOnlyList<FeatureDrift> Features { get; init; }
    [JsonPropertyName("driftShare")]
    public required double DriftedShare { get; init; }
    public required bool DatasetDrift { get; init; }
    public FeatureDrift? Score { get; init; }

    /// <summary>Drifted features, most important to the model first: where drift hurts most.</summary>
    public required IReadOnlyList<string> DriftedByImportance { get; init; }
}

/// <summary>
/// Compares current data with the reference profile stored in a model card. The test depends on the
/// feature kind and the sample size: KS or chi-squared (p-values) for small windows, where they are
/// informative; Wasserstein (in reference standard deviations) or Jensen-Shannon distance for large
/// ones, where every test would reject on trivially small shifts. PSI is reported beside each.
/// </summary>
public static class DriftDetector
{
    /// <summary>Drift of current data (and scores) against a model's card.</summary>
    public static DriftReport Detect(ModelCard card, Dataset current, IReadOnlyList<double>? currentScores = null, DriftOptions? options = null) =>
        Detect(card.Reference, current, card.Importance.ToDictionary(i => i.Feature, i => i.AucDrop), card.ScoreReference, currentScores, options);

    /// <summary>Drift of current data against any reference profile (for example one built from a reference file).</summary>
    public static DriftReport Detect(
        IReadOnlyList<FeatureProfile> reference, Dataset current, IReadOnlyDictionary<string, double>? importance = null,
        ScoreProfile? scoreReference = null, IReadOnlyList<double>? currentScores = null, DriftOptions? options = null)
    {
        options ??= new DriftOptions();
        importance ??= new Dictionary<string, double>();
        var features = new List<FeatureDrift>();
        foreach (var column in current.Columns)
        {
            var profile = reference.FirstOrDefault(p => p.Name == column.Spec.Name);
            if (profile is null)
            {
                continue;
            }
            var drift = column.Spec.Kind == FeatureKind.Numeric
                ? Numeric(profile, column.Numbers!, options)
                : Categorical(profile, column, options);
            features.Add(drift with { Importance = importance.GetValueOrDefault(profile.Name) });
        }
        FeatureDrift? score = null;
        if (currentScores is { Count: > 0 } && scoreReference is { Sample.Count: > 0 })
        {
            var scoreProfile = new FeatureProfile
            {
                Name = "score",
                Kind = FeatureKind.Numeric,
                Sample = scoreReference.Sample,
                BinEdges = scoreReference.BinEdges,
                BinShares = scoreReference.BinShares,
                StandardDeviation = StandardDeviation(scoreReference.Sample),
            };
            score = Numeric(scoreProfile, [.. currentScores], options);
        }
        var drifted = features.Count(f => f.Drifted);
        var share = features.Count == 0 ? 0 : (double)drifted / features.Count;
        return new DriftReport
        {
            CurrentRows = current.RowCount,
            Features = features,
            DriftedShare = share,
            DatasetDrift = features.Count > 0 && share >= options.DatasetDriftShare,
            Score = score,
            DriftedByImportance = [.. features.Where(f => f.Drifted).OrderByDescending(f => f.Importance).Select(f => f.Feature)],
        };
    }

    private static FeatureDrift Numeric(FeatureProfile reference, double[] values, DriftOptions options)
    {
        var current = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(current);
        var psi = reference.BinEdges.Count == 11 ? DriftStatistics.Psi(reference.BinShares, Bins(reference.BinEdges, current)) : 0;
        if (current.Length <= options.SmallSampleMax)
        {
            var (d, p) = DriftStatistics.KolmogorovSmirnov(reference.Sample, current);
            return new FeatureDrift
            {
                Feature = reference.Name,
                Kind = reference.Kind,
                Test = "ks",
                Statistic = d,
                PValue = p,
                Threshold = options.PValue,
                Drifted = current.Length > 0 && p < options.PValue,
                Psi = psi,
                CurrentCount = current.Length,
            };
        }
        var sd = reference.StandardDeviation is { } s and > 0 ? s : 1;
        var distance = DriftStatistics.Wasserstein(reference.Sample, current) / sd;
        return new FeatureDrift
        {
            Feature = reference.Name,
            Kind = reference.Kind,
            Test = "wasserstein",
            Statistic = distance,
            Threshold = options.WassersteinThreshold,
            Drifted = distance > options.WassersteinThreshold,
            Psi = psi,
            CurrentCount = current.Length,
        };
    }

    private static FeatureDrift Categorical(FeatureProfile reference, FeatureColumn column, DriftOptions options)
    {
        // Booleans are profiled as "true"/"false" frequencies; categories by their text.
        var currentCounts = new Dictionary<string, double>(StringComparer.Ordinal);
        var n = 0;
        for (var r = 0; r < (column.Categories?.Length ?? column.Numbers!.Length); r++)
        {
            string? key = column.Categories is { } c ? c[r] : double.IsNaN(column.Numbers![r]) ? null : column.Numbers[r] == 1 ? "true" : "false";
            if (key is null)
            {
                continue;
            }
            currentCounts[key] = currentCounts.GetValueOrDefault(key) + 1;
            n++;
        }
        var keys = reference.Frequencies.Keys.Union(currentCounts.Keys).ToList();
        var present = reference.Count * (1 - reference.MissingShare);
        var refCounts = keys.Select(k => reference.Frequencies.GetValueOrDefault(k) * present).ToList();
        var curCounts = keys.Select(k => currentCounts.GetValueOrDefault(k)).ToList();
        var psi = DriftStatistics.Psi(refCounts, curCounts);
        if (n <= options.SmallSampleMax)
        {
            var (chi, p) = DriftStatistics.ChiSquared(refCounts, curCounts);
            return new FeatureDrift
            {
                Feature = reference.Name,
                Kind = reference.Kind,
                Test = "chi2",
                Statistic = chi,
                PValue = p,
                Threshold = options.PValue,
                Drifted = n > 0 && p < options.PValue,
                Psi = psi,
                CurrentCount = n,
            };
        }
        var js = DriftStatistics.JensenShannon(refCounts, curCounts);
        return new FeatureDrift
        {
            Feature = reference.Name,
            Kind = reference.Kind,
            Test = "jensen-shannon",
            Statistic = js,
            Threshold = options.JensenShannonThreshold,
            Drifted = js > options.JensenShannonThreshold,
            Psi = psi,
            CurrentCount = n,
        };
    }

    private static double[] Bins(IReadOnlyList<double> edges, double[] values)
    {
        var counts = new double[edges.Count - 1];
        foreach (var v in values)
        {
            counts[ReferenceProfiler.Bin(edges, v)]++;
        }
        return counts;
    }

    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Count - 1));
    }
}
