using Churn.Core.Drift;
using Churn.Core.Quality;

namespace Churn.Core.Tests.Drift;

/// <summary>Drift on empty columns and tiny windows: no verdict, and a reason, instead of "stable" or chance drift.</summary>
public class SmallWindowTests
{
    private static readonly Dataset Reference = DatasetLoader.Load(GeneratedCustomers.CsvFile(3000, seed: 1, drift: 0), CustomerGenerator.Schema, LabelRequirement.Optional);
    private static readonly IReadOnlyList<FeatureProfile> Profile = ReferenceProfiler.Profile(Reference);

    private static Dataset Window(int rows, int seed = 7, double drift = 0) =>
        DatasetLoader.Load(GeneratedCustomers.CsvFile(rows, seed, drift), CustomerGenerator.Schema, LabelRequirement.Optional);

    [Fact]
    public void ANumericFeatureWithNoValuesIsReportedAsNoValuesNotStable()
    {
        var window = Window(800);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "monthlyCharges").Numbers!, double.NaN);

        var report = DriftDetector.Detect(Profile, window);

        var charges = report.Features.Single(f => f.Feature == "monthlyCharges");
        Assert.Equal(FeatureVerdict.NoValues, charges.Verdict);
        Assert.False(charges.Drifted);
        Assert.False(charges.Judged);
        Assert.Null(charges.Statistic);
        Assert.Null(charges.PValue);
        Assert.Equal(0, charges.CurrentCount);
        Assert.Equal(1, charges.CurrentMissingShare);
        Assert.Equal(0, charges.ReferenceMissingShare);
        Assert.Contains("no values in 800 rows", charges.Reason, StringComparison.Ordinal);
        Assert.Contains("missing 100 %", charges.Reason, StringComparison.Ordinal);
        // The other features are still judged, and the empty one counts neither as drifted nor as stable.
        Assert.Equal(report.Features.Count - 1, report.JudgedCount);
        Assert.Contains("monthlyCharges: no values", report.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public void ACategoricalOrYesNoFeatureWithNoValuesIsReportedAsNoValues()
    {
        var window = Window(600);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "contract").Categories!, null);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "paperlessBilling").Numbers!, double.NaN);

        var report = DriftDetector.Detect(Profile, window);

        Assert.Equal(FeatureVerdict.NoValues, report.Features.Single(f => f.Feature == "contract").Verdict);
        Assert.Equal(FeatureVerdict.NoValues, report.Features.Single(f => f.Feature == "paperlessBilling").Verdict);
        Assert.Equal(report.Features.Count - 2, report.JudgedCount);
    }

    [Fact]
    public void AnEightRowWindowGetsNoVerdictAndSaysHowManyValuesAreNeeded()
    {
        // Strongly drifted rows: without a minimum, chi-squared and KS would call several features drifted from 8 values.
        var report = DriftDetector.Detect(Profile, Window(8, seed: 3, drift: 1));

        Assert.All(report.Features, f => Assert.Equal(FeatureVerdict.TooFewValues, f.Verdict));
        Assert.All(report.Features, f => Assert.Null(f.Statistic));
        Assert.False(report.DatasetDrift);
        Assert.Equal(0, report.DriftedShare);
        var tenure = report.Features.Single(f => f.Feature == "tenureMonths");
        Assert.Equal("8 values: at least 30 are needed for a KS verdict", tenure.Reason);
        Assert.Equal("8 values: at least 30 are needed for a chi-squared verdict", report.Features.Single(f => f.Feature == "contract").Reason);
        Assert.StartsWith("No drift verdict for any of the", report.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheMinimumsAreOptionsAndChiSquaredStillNeedsCochransRule()
    {
        var options = new DriftOptions { MinKsValues = 5, MinChiSquaredValues = 5 };

        var report = DriftDetector.Detect(Profile, Window(8, seed: 3), options: options);

        // KS runs from 5 values when asked to; a three-category feature over 8 rows has most expected counts below 5.
        Assert.True(report.Features.Single(f => f.Feature == "tenureMonths").Judged);
        var contract = report.Features.Single(f => f.Feature == "contract");
        Assert.Equal(FeatureVerdict.TooFewValues, contract.Verdict);
        Assert.Contains("Cochran", contract.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AMinimumAboveTheSmallSampleLimitNamesTheDistanceTheWindowWouldUse()
    {
        var options = new DriftOptions { MinKsValues = 2000, MinChiSquaredValues = 2000 };

        var report = DriftDetector.Detect(Profile, Window(1500, seed: 9), options: options);

        Assert.Equal("1500 values: at least 2000 are needed for a Wasserstein verdict", report.Features.Single(f => f.Feature == "tenureMonths").Reason);
        Assert.Equal("1500 values: at least 2000 are needed for a Jensen-Shannon verdict", report.Features.Single(f => f.Feature == "region").Reason);
    }

    [Fact]
    public void AWindowOfThirtyIsJudged()
    {
        var report = DriftDetector.Detect(Profile, Window(30, seed: 5));

        Assert.Contains(report.Features, f => f.Test == "ks" && f.Judged);
        Assert.Contains(report.Features, f => f.Test == "chi2" && f.Judged);
    }

    [Fact]
    public void CochransRuleCountsExpectedCellsAsPublished()
    {
        // Expected current counts 10 and 10 of 20: every cell at least 5.
        Assert.True(DriftStatistics.MeetsCochranRule([100, 100], [10, 10]));
        // A category with an expected current count of 0.04 fails the "none below 1" part.
        Assert.False(DriftStatistics.MeetsCochranRule([1000, 10], [4, 0]));
        // 3 categories of 8 rows: expected current counts 4.4, 1.7, 1.9 (3 of 6 cells below 5, more than 20 %).
        Assert.False(DriftStatistics.MeetsCochranRule([550, 210, 240], [4, 2, 2]));
        // Expected 4.5 in one of 6 cells (17 %) is allowed.
        Assert.True(DriftStatistics.MeetsCochranRule([450, 3000, 3000], [5, 30, 30]));
    }

    [Fact]
    public void ANewCategoryTooRareForChiSquaredIsMergedNotDropped()
    {
        // The new category (0 in the reference, 5 now) has an expected current count of 0.48.
        double[] reference = [500, 300, 200, 0];
        double[] current = [50, 30, 20, 5];
        Assert.False(DriftStatistics.MeetsCochranRule(reference, current));

        var pooled = DriftStatistics.PoolForChiSquared(reference, current);

        Assert.NotNull(pooled);
        Assert.Equal([200, 300, 500], pooled.Value.Reference.Order());
        Assert.Equal([25, 30, 50], pooled.Value.Current.Order());
        Assert.Null(DriftStatistics.PoolForChiSquared([550, 210, 240], [4, 2, 2]));
    }

    [Fact]
    public void DatasetDriftNeedsMoreThanTheThresholdShareOfJudgedFeatures()
    {
        var options = new DriftOptions();

        Assert.Equal(0.35, options.DatasetDriftShare);
        Assert.False(options.IsDatasetDrift(drifted: 7, judged: 20));
        Assert.True(options.IsDatasetDrift(drifted: 6, judged: 16));
        Assert.False(options.IsDatasetDrift(drifted: 5, judged: 16));
        Assert.False(options.IsDatasetDrift(drifted: 0, judged: 0));
        Assert.Throws<ArgumentException>(() => new DriftOptions { DatasetDriftShare = 1.5 }.Validate());
        Assert.Throws<ArgumentException>(() => new DriftOptions { MinKsValues = 0 }.Validate());
    }

    [Fact]
    public void TheVerdictIsWrittenAsWordsAndOldStoredChecksStillRead()
    {
        var window = Window(300);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "monthlyCharges").Numbers!, double.NaN);
        var json = JsonSerializer.Serialize(DriftDetector.Detect(Profile, window), JsonDefaults.Options);

        Assert.Contains("\"verdict\":\"no values\"", json, StringComparison.Ordinal);
        Assert.Contains("\"verdict\":\"stable\"", json, StringComparison.Ordinal);
        var old = JsonSerializer.Deserialize<FeatureDrift>("""{"name":"tenureMonths","kind":"Numeric","test":"ks","statistic":0.3,"threshold":0.05,"drifted":true,"psi":0.2,"currentCount":400}""", JsonDefaults.Options)!;
        Assert.Equal(FeatureVerdict.Drifted, old.Verdict);
    }

    [Fact]
    public void TheHtmlReportShowsTheEmptyFeatureAndWhy()
    {
        var window = Window(300);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "monthlyCharges").Numbers!, double.NaN);

        var html = DriftHtmlReport.Render(DriftDetector.Detect(Profile, window), Profile, window, "t");

        Assert.Contains("no values</span>", html, StringComparison.Ordinal);
        Assert.Contains("No verdict for monthlyCharges: no values in 300 rows", html, StringComparison.Ordinal);
        Assert.Contains("100 % (reference 0 %)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void QualityListsAColumnWithNoValuesAtAll()
    {
        var window = Window(200);
        Array.Fill(window.Columns.Single(c => c.Spec.Name == "monthlyCharges").Numbers!, double.NaN);

        var report = DataQualityAnalyzer.Analyze(window, new LoadReport([], []), Profile);

        Assert.Equal(["monthlyCharges"], report.EmptyColumns);
        Assert.Equal(0, report.Columns.Single(c => c.Column == "monthlyCharges").Present);
        Assert.Equal(200, report.Columns.Single(c => c.Column == "tenureMonths").Present);
    }
}
