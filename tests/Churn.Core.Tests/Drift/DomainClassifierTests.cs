using Churn.Core.Drift;

namespace Churn.Core.Tests.Drift;

/// <summary>The domain classifier: quiet on windows from the same population, and alone in seeing a purely joint change.</summary>
public class DomainClassifierTests
{
    private static readonly Dataset Reference = Load(3000, seed: 1);

    [Fact]
    public void AJointChangeThatLeavesEveryMarginalUnchangedIsCaughtByTheDomainClassifierAndByNoUnivariateTest()
    {
        var profile = ReferenceProfiler.Profile(Reference);
        var current = Load(1500, seed: 9);
        var shuffled = Load(1500, seed: 9);
        // Total charges shuffled across customers: the same values (so the same marginal), no longer tied to tenure × price.
        new Random(4).Shuffle(shuffled.Columns.Single(c => c.Spec.Name == "totalCharges").Numbers!);

        var before = DriftDetector.Detect(profile, current);
        var after = DriftDetector.Detect(profile, shuffled);
        var quiet = DomainClassifier.Detect(Reference, current);
        var caught = DomainClassifier.Detect(Reference, shuffled);

        // Every per-feature test gives exactly the verdict and statistic it gave before the change: none of them can see it.
        Assert.Equal(before.Features.Select(f => (f.Feature, f.Verdict, f.Statistic)), after.Features.Select(f => (f.Feature, f.Verdict, f.Statistic)));
        Assert.False(after.Features.Single(f => f.Feature == "totalCharges").Drifted);
        Assert.False(quiet.Drifted, quiet.Summary());
        Assert.InRange(quiet.Auc!.Value, 0.4, 0.58);
        Assert.True(caught.Drifted, caught.Summary());
        Assert.True(caught.Auc > 0.7, caught.Summary());
        Assert.Contains("totalCharges", caught.Separating.Take(2).Select(f => f.Feature));
    }

    [Fact]
    public void TooFewRowsGiveNoVerdictAndSayHowManyAreNeeded()
    {
        var result = DomainClassifier.Detect(Reference, Load(50, seed: 2));

        Assert.False(result.Drifted);
        Assert.Null(result.Auc);
        Assert.Contains("at least 100", result.Reason, StringComparison.Ordinal);
    }

    private static Dataset Load(int rows, int seed) =>
        DatasetLoader.Load(GeneratedCustomers.CsvFile(rows, seed, 0), CustomerGenerator.Schema, LabelRequirement.Optional);
}
