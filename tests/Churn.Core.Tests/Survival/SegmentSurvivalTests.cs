using Churn.Core.Survival;

namespace Churn.Core.Tests.Survival;

public class SegmentSurvivalTests
{
    [Fact]
    public void EachLevelGetsItsKaplanMeierCurveOnAWholeUnitGrid()
    {
        // Plan a: churned at 1, censored at 2. Plan b: churned at 2, churned at 3, censored at 4.
        var data = KnownHazard.LoadRows("a,0,a,20,1,1\nb,0,a,20,2,0\nc,0,b,20,3,1\nd,0,b,20,4,0\ne,0,b,20,2,1\n");

        var segments = SegmentSurvival.Of(data);

        Assert.Equal([0.0, 1, 2, 3, 4], segments.Times);
        // All five: 4/5 after 1; 3/4 of the four left after 2; 1/2 of the two left after 3; the last one is censored.
        Assert.Equal([1, 0.8, 0.6, 0.3, 0.3], segments.Overall);
        var plan = Assert.Single(segments.Columns);
        Assert.Equal("plan", plan.Column);
        Assert.Equal(["b", "a"], plan.Levels.Select(l => l.Level));
        Assert.Equal([3, 2], plan.Levels.Select(l => l.Customers));
        Assert.Equal([2, 1], plan.Levels.Select(l => l.Events));
        Assert.Equal([1, 1, 0.666667, 0.333333, 0.333333], plan.Levels[0].Survival);
        Assert.Equal([1, 0.5, 0.5, 0.5, 0.5], plan.Levels[1].Survival);
    }

    [Fact]
    public void MissingValuesAreALevelAndLevelsBeyondTheMostFrequentArePooled()
    {
        // Plans p0..p9 with 1..10 customers each, and five customers without a plan.
        var rows = Enumerable.Range(0, 10).SelectMany(p => Enumerable.Range(0, p + 1).Select(i => $"c{p}-{i},0,p{p},20,{1 + (i % 5)},{i % 2}\n"));
        var missing = Enumerable.Range(0, 5).Select(i => $"m{i},0,,20,{2 + i},{i % 2}\n");
        var data = KnownHazard.LoadRows(string.Concat(rows) + string.Concat(missing));

        var levels = SegmentSurvival.Of(data).Columns.Single().Levels;

        // Kept: p9..p3 (10 to 4 customers) and the five missing; pooled: p2, p1 and p0 (6 customers).
        Assert.Equal(SegmentSurvival.MaxLevels + 1, levels.Count);
        Assert.Equal("p9", levels[0].Level);
        Assert.Equal(5, Assert.Single(levels, l => l.Level == SegmentSurvival.MissingLevel).Customers);
        Assert.Equal(6, Assert.Single(levels, l => l.Level == SegmentSurvival.OtherLevel).Customers);
        Assert.DoesNotContain(levels, l => l.Level == "p2");
        Assert.Equal(data.RowCount, levels.Sum(l => l.Customers));
    }

    [Fact]
    public void TrainingRecordsTheSegmentCurvesInTheCardAndThePackageKeepsThem()
    {
        var data = KnownHazard.Load(600, 71);
        var model = SurvivalTrainer.Train(data, new SurvivalOptions { Method = SurvivalMethod.Cox }).Model;
        var path = Scratch.NewFilePath(".zip");

        model.Save(path);
        var segments = SurvivalModel.Load(path).Card.Segments!;

        Assert.Equal(12, segments.Times[^1]);
        Assert.Equal(["plan"], segments.Columns.Select(c => c.Column));
        var km = KaplanMeier.Fit(data.Durations, data.Events);
        Assert.Equal(segments.Times.Select(t => Math.Round(km.At(t), 6)), segments.Overall);
        var b = Enumerable.Range(0, data.RowCount).Where(i => data.Covariates.Columns[1].Categories![i] == "b").ToArray();
        var kmB = KaplanMeier.Fit([.. b.Select(i => data.Durations[i])], [.. b.Select(i => data.Events[i])]);
        Assert.Equal(segments.Times.Select(t => Math.Round(kmB.At(t), 6)), segments.Columns[0].Levels.Single(l => l.Level == "b").Survival);
    }
}
