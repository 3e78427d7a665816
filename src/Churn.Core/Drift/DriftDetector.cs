using Churn.Core.Models;

namespace Churn.Core.Drift;

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
        options = (options ?? new DriftOptions()).Validate();
        importance ??= new Dictionary<string, double>();
        var judgedColumns = current.Columns
            .Select(column => (Column: column, Profile: reference.FirstOrDefault(p => p.Name == column.Spec.Name)))
            .Where(c => c.Profile is not null)
            .ToArray();
        // Each feature is judged on its own (sorting a million values is the bulk of it), so they run on every core;
        // the report keeps the columns' order.
        var drifts = new FeatureDrift[judgedColumns.Length];
        Parallel.For(0, judgedColumns.Length, i =>
        {
            var (column, profile) = judgedColumns[i];
            var drift = column.Spec.Kind == FeatureKind.Numeric
                ? Numeric(profile!, column.Numbers!, options)
                : Categorical(profile!, column, options);
            drifts[i] = drift with { Importance = importance.GetValueOrDefault(profile!.Name) };
        });
        var features = drifts.ToList();
        FeatureDrift? score = null;
        if (currentScores is { Count: > 0 } && ScoreProfile(scoreReference) is { } scoreProfile)
        {
            score = Numeric(scoreProfile, [.. currentScores], options);
        }
        return Report(current.RowCount, features, score, options);
    }

    /// <summary>
    /// Drift of a window given as counts (<see cref="DriftCounts"/>, counted against <paramref name="card"/>) rather than
    /// rows: the same tests, thresholds and report as <see cref="Detect(ModelCard, Dataset, IReadOnlyList{double}?, DriftOptions?)"/>
    /// on the window's rows. Categorical features and every PSI come out exactly; a Wasserstein distance is within
    /// 0.5 / <see cref="DriftCounts.StepsPerStandardDeviation"/> reference standard deviations of the rows' one, and a
    /// KS statistic (small windows) is taken on the values at their grid cells' centres.
    /// </summary>
    public static DriftReport Detect(ModelCard card, DriftCounts counts, DriftOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(counts);
        options = (options ?? new DriftOptions()).Validate();
        var importance = card.Importance.ToDictionary(i => i.Feature, i => i.AucDrop);
        var features = new List<FeatureDrift>();
        // The report keeps the schema's column order, as the rows' report keeps the dataset's.
        foreach (var spec in card.Schema.Features)
        {
            if (!counts.Features.TryGetValue(spec.Name, out var feature) || card.Reference.FirstOrDefault(p => p.Name == spec.Name) is not { } profile)
            {
                continue;
            }
            var drift = feature.Levels is { } levels
                ? Categorical(profile, levels.ToDictionary(l => l.Key, l => (double)l.Value, StringComparer.Ordinal), (int)feature.Present, (int)feature.Rows, options)
                : Numeric(profile, feature, options);
            features.Add(drift with { Importance = importance.GetValueOrDefault(profile.Name) });
        }
        FeatureDrift? score = null;
        if (counts.Score is { Present: > 0 } scores && ScoreProfile(card.ScoreReference) is { } scoreProfile)
        {
            score = Numeric(scoreProfile, scores, options);
        }
        return Report((int)counts.Rows, features, score, options);
    }

    /// <summary>The score's reference as a numeric feature's profile ("score"), or null when the card kept no score sample.</summary>
    public static FeatureProfile? ScoreProfile(ScoreProfile? scoreReference) => scoreReference is { Sample.Count: > 0 }
        ? new FeatureProfile
        {
            Name = "score",
            Kind = FeatureKind.Numeric,
            Sample = scoreReference.Sample,
            BinEdges = scoreReference.BinEdges,
            BinShares = scoreReference.BinShares,
            Mean = scoreReference.Mean,
            StandardDeviation = StandardDeviation(scoreReference.Sample),
        }
        : null;

    private static DriftReport Report(int rows, List<FeatureDrift> features, FeatureDrift? score, DriftOptions options)
    {
        var drifted = features.Count(f => f.Drifted);
        var judged = features.Count(f => f.Judged);
        return new DriftReport
        {
            CurrentRows = rows,
            Features = features,
            DriftedShare = judged == 0 ? 0 : (double)drifted / judged,
            DatasetDrift = options.IsDatasetDrift(drifted, judged),
            DatasetDriftShare = options.DatasetDriftShare,
            Score = score,
            DriftedByImportance = [.. features.Where(f => f.Drifted).OrderByDescending(f => f.Importance).Select(f => f.Feature)],
        };
    }

    private static FeatureDrift Numeric(FeatureProfile reference, double[] values, DriftOptions options)
    {
        var current = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(current);
        return NumericVerdict(reference, values.Length, current.Length, options,
            () => Bins(reference.BinEdges, current),
            () => DriftStatistics.KolmogorovSmirnov(reference.Sample, current),
            () => DriftStatistics.Wasserstein(reference.Sample, current));
    }

    private static FeatureDrift Numeric(FeatureProfile reference, FeatureCounts counts, DriftOptions options)
    {
        var (values, weights) = counts.SortedCells(reference);
        return NumericVerdict(reference, (int)counts.Rows, (int)counts.Present, options,
            () => counts.Bins is { Length: 10 } bins ? [.. bins.Select(b => (double)b)] : [],
            // KS is a largest gap between distribution functions, so ties matter: the reference goes on the same grid, and a
            // reference value equal to a current one stays equal to it.
            () => DriftStatistics.KolmogorovSmirnov([.. reference.Sample.Select(v => FeatureCounts.OnGrid(reference, v))], Expand(values, weights)),
            () => DriftStatistics.Wasserstein(reference.Sample, values, weights));
    }

    /// <summary>
    /// A numeric feature's verdict from its window: KS on small windows, Wasserstein in reference standard deviations
    /// (or PSI over the reference bins) on large ones. The statistics come from the rows or from counts alike.
    /// </summary>
    private static FeatureDrift NumericVerdict(
        FeatureProfile reference, int rows, int present, DriftOptions options,
        Func<double[]> bins, Func<(double D, double P)> ks, Func<double> wasserstein)
    {
        var test = present <= options.SmallSampleMax ? "ks" : "wasserstein";
        var threshold = test == "ks" ? options.PValue : options.WassersteinThreshold;
        if (Unjudged(reference, rows, present, options.MinKsValues, test == "ks" ? "KS" : "Wasserstein", test, threshold) is { } none)
        {
            return none;
        }
        var psi = reference.BinEdges.Count == 11 ? DriftStatistics.Psi(reference.BinShares, bins()) : 0;
        if (test == "ks")
        {
            var (d, p) = ks();
            return Judged(reference, rows, present, test, threshold, d, p, p < options.PValue, psi);
        }
        var sd = reference.StandardDeviation is { } s and > 0 ? s : 1;
        var distance = wasserstein() / sd;
        return Judged(reference, rows, present, test, threshold, distance, null,
            distance > options.WassersteinThreshold || psi > options.PsiThreshold, psi);
    }

    /// <summary>Each value repeated its count of times (sorted values stay sorted).</summary>
    private static double[] Expand(double[] values, long[] counts)
    {
        var expanded = new double[counts.Sum()];
        var at = 0;
        for (var i = 0; i < values.Length; i++)
        {
            expanded.AsSpan(at, (int)counts[i]).Fill(values[i]);
            at += (int)counts[i];
        }
        return expanded;
    }

    private static FeatureDrift Categorical(FeatureProfile reference, FeatureColumn column, DriftOptions options)
    {
        // Booleans are profiled as "true"/"false" frequencies; categories by their text.
        var (levelCounts, n) = column.LevelCounts();
        return Categorical(reference, levelCounts.ToDictionary(c => c.Key, c => (double)c.Value, StringComparer.Ordinal), n,
            column.Categories?.Length ?? column.Numbers!.Length, options);
    }

    /// <summary>A categorical or yes/no feature's verdict from its level counts, <paramref name="n"/> values present in <paramref name="rows"/>.</summary>
    private static FeatureDrift Categorical(FeatureProfile reference, Dictionary<string, double> currentCounts, int n, int rows, DriftOptions options)
    {
        var test = n <= options.SmallSampleMax ? "chi2" : "jensen-shannon";
        var threshold = test == "chi2" ? options.PValue : options.JensenShannonThreshold;
        if (Unjudged(reference, rows, n, options.MinChiSquaredValues, test == "chi2" ? "chi-squared" : "Jensen-Shannon", test, threshold) is { } none)
        {
            return none;
        }
        // The most frequent reference levels and the new levels that matter each get a bin; the long tail shares "other".
        var kept = reference.Frequencies.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal)
            .Take(options.MaxLevels).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        var newLevels = currentCounts.Where(c => !reference.Frequencies.ContainsKey(c.Key) && c.Value >= options.NewLevelShare * n)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
        kept.UnionWith(newLevels.Select(c => c.Key));
        var keys = kept.ToList();
        var present = reference.Count * (1 - reference.MissingShare);
        var refCounts = keys.Select(k => reference.Frequencies.GetValueOrDefault(k) * present).ToList();
        var curCounts = keys.Select(k => currentCounts.GetValueOrDefault(k)).ToList();
        var otherReference = reference.Frequencies.Where(f => !kept.Contains(f.Key)).Sum(f => f.Value) * present;
        var otherCurrent = currentCounts.Where(c => !kept.Contains(c.Key)).Sum(c => c.Value);
        if (otherReference > 0 || otherCurrent > 0)
        {
            refCounts.Add(otherReference);
            curCounts.Add(otherCurrent);
        }
        var psi = DriftStatistics.Psi(refCounts, curCounts);
        var levels = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (level, count) in newLevels.Take(10))
        {
            levels[level] = count / n;
        }
        return WithLevels(CategoricalVerdict(reference, options, rows, n, test, threshold, refCounts, curCounts, psi), levels, currentCounts.Count);
    }

    private static FeatureDrift WithLevels(FeatureDrift drift, Dictionary<string, double> newLevels, int currentLevels) =>
        drift with { NewLevels = newLevels, CurrentLevels = currentLevels };

    private static FeatureDrift CategoricalVerdict(
        FeatureProfile reference, DriftOptions options, int rows, int n, string test, double threshold, List<double> refCounts, List<double> curCounts, double psi)
    {
        if (test == "chi2")
        {
            if (DriftStatistics.PoolForChiSquared(refCounts, curCounts) is not { } pooled)
            {
                return NoVerdict(reference, rows, n, FeatureVerdict.TooFewValues, test, threshold,
                    FormattableString.Invariant($"{n} values: too few expected in each category for chi-squared (Cochran's rule: none below 1, at most 20 % below 5)"));
            }
            var (chi, p) = DriftStatistics.ChiSquared(pooled.Reference, pooled.Current);
            return Judged(reference, rows, n, test, threshold, chi, p, p < options.PValue, psi);
        }
        var js = DriftStatistics.JensenShannon(refCounts, curCounts);
        return Judged(reference, rows, n, test, threshold, js, null, js > options.JensenShannonThreshold || psi > options.PsiThreshold, psi);
    }

    /// <summary>The no-verdict result when a feature has no current values or fewer than the test's minimum; null when it can be judged.</summary>
    private static FeatureDrift? Unjudged(FeatureProfile reference, int rows, int present, int minimum, string testName, string test, double threshold)
    {
        if (present == 0)
        {
            return NoVerdict(reference, rows, present, FeatureVerdict.NoValues, test, threshold,
                FormattableString.Invariant($"no values in {rows} rows: missing {MissingShare(rows, present):P0} (reference {reference.MissingShare:P0})"));
        }
        return present < minimum
            ? NoVerdict(reference, rows, present, FeatureVerdict.TooFewValues, test, threshold,
                FormattableString.Invariant($"{present} values: at least {minimum} are needed for a {testName} verdict"))
            : null;
    }

    private static FeatureDrift NoVerdict(FeatureProfile reference, int rows, int present, FeatureVerdict verdict, string test, double threshold, string reason) =>
        Counted(reference, rows, present, test, threshold, drifted: false) with { Verdict = verdict, Reason = reason };

    private static FeatureDrift Judged(
        FeatureProfile reference, int rows, int present, string test, double threshold, double statistic, double? pValue, bool drifted, double psi) =>
        Counted(reference, rows, present, test, threshold, drifted) with
        {
            Statistic = statistic,
            PValue = pValue,
            Verdict = drifted ? FeatureVerdict.Drifted : FeatureVerdict.Stable,
            Psi = psi,
        };

    /// <summary>What a feature's result says whether or not it could be judged: the test, its threshold and the values counted.</summary>
    private static FeatureDrift Counted(FeatureProfile reference, int rows, int present, string test, double threshold, bool drifted) => new()
    {
        Feature = reference.Name,
        Kind = reference.Kind,
        Test = test,
        Threshold = threshold,
        Drifted = drifted,
        CurrentCount = present,
        CurrentMissingShare = MissingShare(rows, present),
        ReferenceMissingShare = reference.MissingShare,
    };

    private static double MissingShare(int rows, int present) => rows == 0 ? 1 : (double)(rows - present) / rows;

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
