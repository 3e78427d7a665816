using Churn.Core.Drift;
using Churn.Core.Tests.Training;

namespace Churn.Core.Tests.Drift;

/// <summary>The drift verdict from a window's counts against the verdict from its rows (ADR 0011).</summary>
public class DriftCountsTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    /// <summary>How far a Wasserstein distance from counts may be from the rows' one, in reference standard deviations.</summary>
    private const double GridBound = 0.5 / DriftCounts.StepsPerStandardDeviation;

    public static TheoryData<int, int, double> Windows => new()
    {
        { 1500, 12, 1.0 },  // large and drifted: Wasserstein and Jensen-Shannon
        { 4000, 31, 0.0 },  // large and stable
        { 600, 7, 0.5 },    // small: KS and chi-squared
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void CountsGiveTheRowsVerdictOnEveryFeatureAndTheScore(int rows, int seed, double drift)
    {
        var model = fixture.Result.Model;
        var current = DatasetLoader.Load(GeneratedCustomers.CsvFile(rows, seed, drift), CustomerGenerator.Schema);
        var scores = model.Score(current);

        var fromRows = DriftDetector.Detect(model.Card, current, scores);
        var fromCounts = DriftDetector.Detect(model.Card, DriftCounts.Of(model.Card, current, scores));

        Assert.Equal(fromRows.CurrentRows, fromCounts.CurrentRows);
        Assert.Equal(fromRows.Features.Select(f => f.Feature), fromCounts.Features.Select(f => f.Feature));
        foreach (var (r, c) in fromRows.Features.Append(fromRows.Score!).Zip(fromCounts.Features.Append(fromCounts.Score!)))
        {
            Assert.Equal((r.Feature, r.Test, r.Verdict, r.CurrentCount), (c.Feature, c.Test, c.Verdict, c.CurrentCount));
            Assert.Equal(r.CurrentMissingShare, c.CurrentMissingShare, 12);
            Assert.Equal(r.Psi!.Value, c.Psi!.Value, 1e-12);
            Assert.Equal(r.NewLevels, c.NewLevels);
            Assert.Equal(r.CurrentLevels, c.CurrentLevels);
            switch (r.Test)
            {
                case "wasserstein":
                    Assert.InRange(Math.Abs(r.Statistic!.Value - c.Statistic!.Value), 0, GridBound + 1e-12);
                    break;
                case "ks":
                    // Both sides at their cells' centres keep every tie; only a reference value within one cell of a different
                    // current value could change sides, and none does in these windows.
                    Assert.InRange(Math.Abs(r.Statistic!.Value - c.Statistic!.Value), 0, 1e-12);
                    break;
                default:
                    Assert.Equal(r.Statistic!.Value, c.Statistic!.Value, 1e-12);
                    Assert.Equal(r.PValue ?? -1, c.PValue ?? -1, 1e-12);
                    break;
            }
        }
        Assert.Equal(fromRows.DriftedShare, fromCounts.DriftedShare);
        Assert.Equal(fromRows.DatasetDrift, fromCounts.DatasetDrift);
        Assert.Equal(fromRows.DriftedByImportance, fromCounts.DriftedByImportance);
    }

    [Fact]
    public void CountsOfTwoPartsAddUpToTheCountsOfTheWholeAndSurviveTheirJson()
    {
        var model = fixture.Result.Model;
        var current = DatasetLoader.Load(fixture.DriftPath, CustomerGenerator.Schema);
        var scores = model.Score(current);
        var cut = current.RowCount / 3;
        var first = Enumerable.Range(0, cut).ToArray();
        var rest = Enumerable.Range(cut, current.RowCount - cut).ToArray();

        var whole = DriftCounts.Of(model.Card, current, scores);
        var parts = DriftCounts.FromJson(DriftCounts.Of(model.Card, current.Select(first), [.. first.Select(r => scores[r])]).ToJson());
        parts.Add(DriftCounts.FromJson(DriftCounts.Of(model.Card, current.Select(rest), [.. rest.Select(r => scores[r])]).ToJson()));

        Assert.Equal(current.RowCount, parts.Rows);
        Assert.Equal(Canonical(whole), Canonical(parts));
        Assert.Equal(
            System.Text.Json.JsonSerializer.Serialize(DriftDetector.Detect(model.Card, whole)),
            System.Text.Json.JsonSerializer.Serialize(DriftDetector.Detect(model.Card, parts)));
    }

    [Fact]
    public void ANumericValueLandsInTheCellOfItsNearestGridPointAroundTheReferenceMean()
    {
        var reference = new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Mean = 10, StandardDeviation = 2 };
        var step = 2.0 / DriftCounts.StepsPerStandardDeviation;

        var counts = FeatureCounts.OfNumbers(reference, [10, 10 + (0.4 * step), 10 + (0.6 * step), 10 - (3 * step), double.NaN]);

        Assert.Equal((5L, 4L), (counts.Rows, counts.Present));
        Assert.Equal(new Dictionary<long, long> { [0] = 2, [1] = 1, [-3] = 1 }, counts.Cells);
        Assert.Empty(counts.Bins!);
        var (values, weights) = counts.SortedCells(reference);
        Assert.Equal([10 - (3 * step), 10, 10 + step], values);
        Assert.Equal([1L, 2, 1], weights);
    }

    [Fact]
    public void AValueTooFarOutForTheGridIsCountedFarOutOnItsOwnSide()
    {
        var reference = new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Mean = 10, StandardDeviation = 2 };

        var counts = FeatureCounts.OfNumbers(reference, [double.MaxValue, -double.MaxValue, 1e300]);

        var (values, weights) = counts.SortedCells(reference);
        Assert.Equal([1L, 2], weights);
        Assert.True(values[0] < -1e12, $"{values[0]}");
        Assert.True(values[1] > 1e12, $"{values[1]}");
    }

    /// <summary>Counts as text with every dictionary in key order, so two equal counts compare equal whatever their insertion order.</summary>
    private static string Canonical(DriftCounts counts) => string.Join("\n", counts.Features.OrderBy(f => f.Key, StringComparer.Ordinal)
        .Append(new("score", counts.Score!))
        .Select(f => FormattableString.Invariant(
            $"{f.Key} {f.Value.Rows} {f.Value.Present} [{string.Join(",", (f.Value.Cells ?? []).OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}"))}] [{string.Join(",", f.Value.Bins ?? [])}] [{string.Join(",", (f.Value.Levels ?? []).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}:{l.Value}"))}]")));
}
