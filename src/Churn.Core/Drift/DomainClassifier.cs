using Churn.Core.Evaluation;
using Churn.Core.Features;
using Churn.Core.Training;
using Microsoft.ML;

namespace Churn.Core.Drift;

/// <summary>A feature's share (0 to 1) of the split gain the domain classifier spent telling the windows apart.</summary>
public sealed record SeparatingFeature(string Feature, double Share);

/// <summary>
/// The multivariate drift verdict: how well a classifier tells current rows from reference rows, out of fold. An AUC
/// near 0.5 means the windows look alike jointly; well above it means they differ, even when no single feature does.
/// </summary>
public sealed record DomainDrift
{
    /// <summary>Rows drawn from each window (the same number from both).</summary>
    public required int RowsPerWindow { get; init; }

    /// <summary>Out-of-fold ROC AUC of reference against current; null when there were too few rows for a verdict.</summary>
    public double? Auc { get; init; }

    /// <summary>The AUC above which the windows count as different: the larger of the floor and 0.5 plus three null standard errors.</summary>
    public double? Threshold { get; init; }

    public required bool Drifted { get; init; }

    /// <summary>The features that separate the windows most, largest share first (at most 5).</summary>
    public IReadOnlyList<SeparatingFeature> Separating { get; init; } = [];

    /// <summary>Why there is no verdict; null when there is one.</summary>
    public string? Reason { get; init; }

    /// <summary>One line for people: "out-of-fold AUC 0.93 over 2 × 2000 rows (threshold 0.60): drifted; separating: totalCharges 61 %, tenureMonths 30 %".</summary>
    public string Summary() => Auc is not { } auc
        ? $"no verdict ({Reason})"
        : FormattableString.Invariant($"out-of-fold AUC {auc:0.000} over 2 × {RowsPerWindow} rows (threshold {Threshold:0.000}): {(Drifted ? "drifted" : "no joint drift")}")
          + (Separating.Count == 0 ? "" : "; separating: " + string.Join(", ", Separating.Select(f => FormattableString.Invariant($"{f.Feature} {f.Share:P0}"))));
}

/// <summary>
/// Multivariate drift by a domain classifier ("classifier two-sample test", Lopez-Paz and Oquab, 2017, "Revisiting
/// classifier two-sample tests", ICLR; the "adversarial validation" of practice): a small seeded LightGBM learns to tell
/// reference rows from current rows, and its out-of-fold AUC is the statistic. Unlike the per-feature tests of
/// <see cref="DriftDetector"/> it sees changes in how features move together: a shuffled total charge against tenure
/// leaves both marginals intact but not their relation.
/// </summary>
public static class DomainClassifier
{
    /// <summary>Rows drawn from each window at most: enough for a stable AUC, few enough to train in a second or two.</summary>
    public const int MaxRowsPerWindow = 2000;

    /// <summary>Fewer rows than this in either window give no verdict.</summary>
    public const int MinRowsPerWindow = 100;

    /// <summary>Folds of the out-of-fold AUC.</summary>
    public const int Folds = 3;

    /// <summary>
    /// Out-of-fold AUC of a classifier telling <paramref name="current"/> from <paramref name="reference"/> (same schema),
    /// on up to <see cref="MaxRowsPerWindow"/> seeded rows of each, and the features it separates them by.
    /// </summary>
    /// <exception cref="ArgumentException">The two datasets do not share their features.</exception>
    public static DomainDrift Detect(Dataset reference, Dataset current, DriftOptions? options = null, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        options = (options ?? new DriftOptions()).Validate();
        var m = Math.Min(MaxRowsPerWindow, Math.Min(reference.RowCount, current.RowCount));
        if (m < MinRowsPerWindow)
        {
            return new DomainDrift
            {
                RowsPerWindow = m,
                Drifted = false,
                Reason = FormattableString.Invariant($"{Math.Min(reference.RowCount, current.RowCount)} rows in the smaller window: at least {MinRowsPerWindow} are needed for a domain classifier"),
            };
        }
        var random = new Random(seed);
        var both = Dataset.Concat(reference.Select(Sample(reference.RowCount, m, random)), current.Select(Sample(current.RowCount, m, random)), "domain");
        var isCurrent = Enumerable.Range(0, 2 * m).Select(r => r >= m).ToArray();
        var encoder = FeatureEncoder.Fit(both);
        var matrix = encoder.EncodeAll(both);
        var learners = new Learners(seed, encoder.Width);
        var settings = new TreeSettings { LearningRate = 0.1, Leaves = 15, MinRowsPerLeaf = 20 };
        var folds = DataSplits.StratifiedFolds(isCurrent, Folds, seed);
        var outOfFold = new double[2 * m];
        var gains = new double[encoder.Width];
        for (var fold = 0; fold < Folds; fold++)
        {
            var train = DataSplits.Rows(folds, fold, inFold: false);
            var test = DataSplits.Rows(folds, fold, inFold: true);
            var model = learners.Context.BinaryClassification.Trainers.LightGbm(learners.LightGbmOptions(settings, DomainTrees, 0))
                .Fit(learners.View(matrix, isCurrent, train));
            var probabilities = Learners.Probabilities(model, learners.View(matrix, isCurrent, test));
            for (var i = 0; i < test.Length; i++)
            {
                outOfFold[test[i]] = probabilities[i];
            }
            foreach (var tree in model.Model.SubModel.TrainedTreeEnsemble.Trees)
            {
                for (var node = 0; node < tree.SplitGains.Count; node++)
                {
                    gains[tree.NumericalSplitFeatureIndexes[node]] += tree.SplitGains[node];
                }
            }
        }
        var auc = BinaryMetrics.Auc(outOfFold, isCurrent);
        // Under no difference the AUC is a Mann-Whitney statistic with variance (n1 + n2 + 1) / (12 n1 n2); three standard
        // errors keep small windows from alarming by chance, the floor keeps large ones from alarming on trivia.
        var threshold = Math.Max(options.DomainAucThreshold, 0.5 + (3 * Math.Sqrt((2.0 * m + 1) / (12.0 * m * m))));
        var total = gains.Sum();
        var separating = encoder.Features
            .Select(f => new SeparatingFeature(f.Name, total <= 0 ? 0 : gains.AsSpan(f.Offset, f.Width).ToArray().Sum() / total))
            .Where(f => f.Share > 0)
            .OrderByDescending(f => f.Share)
            .Take(5)
            .ToList();
        return new DomainDrift { RowsPerWindow = m, Auc = auc, Threshold = threshold, Drifted = auc > threshold, Separating = separating };
    }

    /// <summary>Trees per fold: a small model is enough to find a difference, and keeps the check cheap.</summary>
    private const int DomainTrees = 60;

    private static int[] Sample(int rows, int m, Random random)
    {
        var all = Enumerable.Range(0, rows).ToArray();
        random.Shuffle(all);
        return all[..m];
    }
}
