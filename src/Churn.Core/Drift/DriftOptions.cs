namespace Churn.Core.Drift;

/// <summary>
/// Thresholds of the drift tests and of the dataset verdict. The CLI (<c>churn drift</c>) and the server's monitoring
/// check both build one of these and let <see cref="DriftDetector"/> decide, so they give the same verdict on the same window.
/// </summary>
public sealed record DriftOptions
{
    /// <summary>
    /// Default share of judged features above which a window counts as drifted (the server's <c>model.drift_threshold</c>).
    /// Each feature is tested at the 5 % level and the features are linked (internet service moves charges and usage), so
    /// chance flags several at once: over 800 same-distribution windows of 400 rows at most 5 of 16 features drifted
    /// (4 or more in 1 %). 0.35 needs 6 of 16, which the generator's drift knob reaches in every window from d = 0.5 and
    /// in about half from d = 0.25; 0.5 missed a quarter of the d = 0.5 windows.
    /// </summary>
    public const double DefaultDatasetDriftShare = 0.35;

    /// <summary>
    /// Default minimum of current values for a numeric feature's verdict. With n current values the two-sample KS test at
    /// the 5 % level only rejects a gap between the distribution functions above about 1.36/√n (Massey 1951, "The
    /// Kolmogorov-Smirnov test for goodness of fit", JASA 46:68-78): 0.25 at 30 values but 0.48 at 8, where a single value
    /// moves the gap by 1/8. Below 30 a verdict says more about the sample than about the customers.
    /// </summary>
    public const int DefaultMinKsValues = 30;

    /// <summary>
    /// Default minimum of current values for a categorical (or yes/no) feature's verdict. Chi-squared is also held to
    /// Cochran's rule on expected counts (see <see cref="DriftStatistics.MeetsCochranRule"/>); the floor keeps a two-category
    /// feature from being judged on a handful of rows that happen to meet it, and matches the numeric minimum so one
    /// window size works for every feature.
    /// </summary>
    public const int DefaultMinChiSquaredValues = 30;

    /// <summary>
    /// Default of <see cref="MaxLevels"/>: a categorical feature is compared over its 20 most frequent reference levels,
    /// new levels of at least <see cref="NewLevelShare"/>, and one "other" bin for the rest.
    /// </summary>
    public const int DefaultMaxLevels = 20;

    /// <summary>
    /// Reference levels of a categorical feature compared one by one (the most frequent); rarer ones are pooled into one
    /// "other" bin on both sides, so a column with thousands of levels is judged on the levels that carry its mass rather
    /// than drowned in sparse cells (and the check stays fast). At least 1.
    /// </summary>
    public int MaxLevels { get; init; } = DefaultMaxLevels;

    /// <summary>
    /// A level absent from the reference that holds at least this share (0 to 1) of a window's present values is kept as its
    /// own bin and reported in <see cref="FeatureDrift.NewLevels"/>; rarer new levels go to "other".
    /// </summary>
    public double NewLevelShare { get; init; } = 0.01;

    /// <summary>
    /// Out-of-fold AUC of the domain classifier (<see cref="DomainClassifier"/>) above which the windows differ jointly; on
    /// small windows the bar is raised to 0.5 plus three null standard errors. From 0.5 to 1.
    /// </summary>
    public double DomainAucThreshold { get; init; } = 0.6;

    /// <summary>At or below this many current values, the statistical tests (KS, chi-squared) are used; above it, distances.</summary>
    public int SmallSampleMax { get; init; } = 1000;

    /// <summary>A test p-value below this means drift.</summary>
    public double PValue { get; init; } = 0.05;

    /// <summary>Wasserstein distance in reference standard deviations above which a numeric feature drifted.</summary>
    public double WassersteinThreshold { get; init; } = 0.1;

    /// <summary>
    /// On large windows (above <see cref="SmallSampleMax"/>), a feature whose PSI against the reference bins exceeds this
    /// drifted even when its distance stays under <see cref="WassersteinThreshold"/> or <see cref="JensenShannonThreshold"/>.
    /// The distances compare with the card's sample of 2,000 reference values, whose own noise (about 0.05 reference
    /// standard deviations) hides a shift at the conventional PSI line of 0.1 on a peaked feature such as monthly charges;
    /// PSI uses the reference's bin shares over all its rows and its noise on 10,000 rows is about 0.001. Just under 0.1,
    /// so such a shift is caught despite sampling noise: measured in <c>bench/results/drift-power.md</c>.
    /// </summary>
    public double PsiThreshold { get; init; } = 0.08;

    /// <summary>Jensen-Shannon distance above which a categorical feature drifted.</summary>
    public double JensenShannonThreshold { get; init; } = 0.1;

    /// <summary>Share of judged features (0 to 1) above which the whole dataset counts as drifted; see <see cref="IsDatasetDrift"/>.</summary>
    public double DatasetDriftShare { get; init; } = DefaultDatasetDriftShare;

    /// <summary>Fewer current values than this give a numeric feature (and the score) no verdict: <see cref="FeatureVerdict.TooFewValues"/>.</summary>
    public int MinKsValues { get; init; } = DefaultMinKsValues;

    /// <summary>Fewer current values than this give a categorical or yes/no feature no verdict: <see cref="FeatureVerdict.TooFewValues"/>.</summary>
    public int MinChiSquaredValues { get; init; } = DefaultMinChiSquaredValues;

    /// <summary>
    /// The dataset verdict: more than <see cref="DatasetDriftShare"/> of the features that got a verdict drifted. Features
    /// without a verdict (no values, too few values) count neither way; with none judged there is no dataset drift.
    /// </summary>
    public bool IsDatasetDrift(int drifted, int judged) => judged > 0 && (double)drifted / judged > DatasetDriftShare;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public DriftOptions Validate()
    {
        if (!(DatasetDriftShare is >= 0 and <= 1))
        {
            throw new ArgumentException($"the drift threshold must be a share from 0 to 1, not {DatasetDriftShare}.");
        }
        if (MinKsValues < 1)
        {
            throw new ArgumentException($"the minimum of values for KS must be at least 1, not {MinKsValues}.");
        }
        if (!(DomainAucThreshold is >= 0.5 and <= 1))
        {
            throw new ArgumentException($"the domain classifier's AUC threshold must be from 0.5 to 1, not {DomainAucThreshold}.");
        }
        if (MaxLevels < 1)
        {
            throw new ArgumentException($"the number of levels compared must be at least 1, not {MaxLevels}.");
        }
        if (!(NewLevelShare is >= 0 and <= 1))
        {
            throw new ArgumentException($"the share of a new level must be from 0 to 1, not {NewLevelShare}.");
        }
        if (MinChiSquaredValues < 1)
        {
            throw new ArgumentException($"the minimum of values for chi-squared must be at least 1, not {MinChiSquaredValues}.");
        }
        return this;
    }
}
