using Churn.Core.Drift;
using Churn.Core.Quality;

namespace Churn.Core.Tests.Drift;

/// <summary>A categorical column with thousands of levels: judged on its frequent levels plus "other", new levels reported.</summary>
public class ManyLevelsTests
{
    private const int Levels = 5000;

    [Fact]
    public void AFiveThousandLevelColumnIsJudgedOnItsFrequentLevelsAndANewLevelOfTwoPercentIsReported()
    {
        var profile = ReferenceProfile();
        var unchanged = WithManyLevels(10_000, seed: 2, newShare: 0);
        var withNewLevel = WithManyLevels(10_000, seed: 3, newShare: 0.02);

        var quiet = Region(DriftDetector.Detect(profile, unchanged));
        var shifted = Region(DriftDetector.Detect(profile, withNewLevel));
        var quality = DataQualityAnalyzer.Analyze(withNewLevel, new LoadReport([], []), profile).Columns.Single(c => c.Column == "region");

        Assert.True(quiet.Judged);
        Assert.False(quiet.Drifted, $"JS {quiet.Statistic}");
        Assert.Empty(quiet.NewLevels);
        Assert.Equal(Levels, profile.Single(p => p.Name == "region").Frequencies.Count);
        Assert.True(quiet.CurrentLevels > 2000, $"{quiet.CurrentLevels} levels");
        // The new level has its own bin and is named with its share; the rarer new level (0.2 %) went to "other".
        var level = Assert.Single(shifted.NewLevels);
        Assert.Equal("brand-new", level.Key);
        Assert.InRange(level.Value, 0.015, 0.025);
        Assert.True(shifted.Statistic > quiet.Statistic);
        Assert.True(quality.UnseenCategories.Count <= DataQualityAnalyzer.MaxUnseenListed);
        Assert.Equal(2, quality.UnseenLevels);
        Assert.Equal("brand-new", quality.UnseenCategories.First().Key);
    }

    [Fact]
    public void EqualTextsAreOneLevelWhetherOrNotTheyAreTheSameStringObject()
    {
        var profile = ReferenceProfile();
        var shared = WithManyLevels(10_000, seed: 4, newShare: 0.02);
        var copied = WithManyLevels(10_000, seed: 4, newShare: 0.02);
        // The same texts: in the first dataset one interned string per level; in the second, every other row its own
        // string object (as a parser that shares nothing would give) and the rest those interned strings. The counts,
        // hence every figure, must not change.
        var once = shared.Columns.Single(c => c.Spec.Name == "region").Categories!;
        var region = copied.Columns.Single(c => c.Spec.Name == "region").Categories!;
        for (var r = 0; r < region.Length; r++)
        {
            once[r] = string.Intern(once[r]!);
            region[r] = r % 2 == 0 ? new string(region[r].AsSpan()) : once[r];
        }

        var expected = Region(DriftDetector.Detect(profile, shared));
        var actual = Region(DriftDetector.Detect(profile, copied));

        Assert.Equal(once.Distinct(StringComparer.Ordinal).Count(), actual.CurrentLevels);
        Assert.Equal(expected.CurrentLevels, actual.CurrentLevels);
        Assert.Equal(expected.Statistic, actual.Statistic);
        Assert.Equal(expected.Psi, actual.Psi);
        Assert.Equal(expected.NewLevels, actual.NewLevels);
        Assert.Equal(0.02, actual.NewLevels["brand-new"], 0.005);
    }

    [Fact]
    public void TheLevelsComparedAndTheNewLevelShareAreOptionsAndAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new DriftOptions { MaxLevels = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new DriftOptions { NewLevelShare = 2 }.Validate());
        Assert.Equal(20, new DriftOptions().MaxLevels);
    }

    /// <summary>The profile of a 20,000-row reference that holds every one of the levels.</summary>
    private static IReadOnlyList<FeatureProfile> ReferenceProfile() => ReferenceProfiler.Profile(WithManyLevels(20_000, seed: 1, newShare: 0));

    private static FeatureDrift Region(DriftReport report) => report.Features.Single(f => f.Feature == "region");

    /// <summary>Generated customers whose region is one of 5,000 levels (a long Zipf tail), plus new levels at the given share and at 0.2 %.</summary>
    private static Dataset WithManyLevels(int rows, int seed, double newShare)
    {
        var data = DatasetLoader.Load(GeneratedCustomers.CsvFile(rows, seed, 0), CustomerGenerator.Schema, LabelRequirement.Optional);
        var weights = Enumerable.Range(1, Levels).Select(k => 1.0 / k).ToArray();
        var cumulative = new double[Levels];
        double total = 0;
        for (var k = 0; k < Levels; k++)
        {
            total += weights[k];
            cumulative[k] = total;
        }
        var random = new Random(seed);
        var region = data.Columns.Single(c => c.Spec.Name == "region").Categories!;
        for (var r = 0; r < region.Length; r++)
        {
            var u = random.NextDouble();
            region[r] = u < newShare ? "brand-new"
                : newShare > 0 && u < newShare + 0.002 ? "rare-new"
                : "level-" + Level(cumulative, random.NextDouble() * total);
        }
        if (newShare == 0 && rows >= 4 * Levels)
        {
            // A reference that holds every one of the levels at least once.
            for (var k = 0; k < Levels; k++)
            {
                region[k] = "level-" + k;
            }
        }
        return data;
    }

    private static int Level(double[] cumulative, double u)
    {
        var i = Array.BinarySearch(cumulative, u);
        return i < 0 ? ~i : i;
    }
}
