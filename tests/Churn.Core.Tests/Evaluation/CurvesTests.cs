namespace Churn.Core.Tests.Evaluation;

public class CurvesTests
{
    private static readonly double[] TiedScores = [0.9, 0.8, 0.8, 0.4, 0.4, 0.1];
    private static readonly bool[] TiedLabels = [true, true, false, true, false, false];

    [Fact]
    public void RocHasOnePointPerDistinctScoreFromOriginToCorner()
    {
        var roc = Curves.Roc(TiedScores, TiedLabels);

        // P = N = 3. Above 0.9 nothing is flagged; 0.9: TP 1 FP 0; 0.8: TP 2 FP 1;
        // 0.4: TP 3 FP 2; 0.1: everything.
        Assert.Equal(
            [(0.0, 0.0), (0.0, 1 / 3.0), (1 / 3.0, 2 / 3.0), (2 / 3.0, 1.0), (1.0, 1.0)],
            roc.Select(p => (p.X, p.Y)).ToArray(),
            new RoundedPairComparer());
        Assert.Equal([0.8, 0.4, 0.1], roc.Skip(2).Select(p => p.Threshold));
        Assert.True(roc[0].Threshold > 0.9, "the first point must flag nobody under score >= threshold");
    }

    [Fact]
    public void TrapezoidAreaUnderTheRocEqualsAuc()
    {
        var roc = Curves.Roc(TiedScores, TiedLabels);

        var area = 0.0;
        for (var i = 1; i < roc.Count; i++)
        {
            area += (roc[i].X - roc[i - 1].X) * (roc[i].Y + roc[i - 1].Y) / 2;
        }

        Assert.Equal(BinaryMetrics.Auc(TiedScores, TiedLabels), area, 1e-12);
    }

    [Fact]
    public void PrecisionRecallStartsAtFullPrecisionAndEndsAtFullRecall()
    {
        var pr = Curves.PrecisionRecall([0.9, 0.8, 0.7, 0.6, 0.5], [true, false, true, false, true]);

        // (R, P) per threshold: start (0, 1); 0.9 (1/3, 1); 0.8 (1/3, 1/2); 0.7 (2/3, 2/3);
        // 0.6 (2/3, 1/2); 0.5 (1, 3/5).
        Assert.Equal(
            [(0.0, 1.0), (1 / 3.0, 1.0), (1 / 3.0, 0.5), (2 / 3.0, 2 / 3.0), (2 / 3.0, 0.5), (1.0, 0.6)],
            pr.Select(p => (p.X, p.Y)).ToArray(),
            new RoundedPairComparer());
    }

    [Fact]
    public void LongCurvesAreThinnedKeepingBothEnds()
    {
        var random = new Random(7);
        var scores = new double[1000];
        var labels = new bool[1000];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = random.NextDouble();
            labels[i] = random.NextDouble() < scores[i];
        }

        var roc = Curves.Roc(scores, labels, maxPoints: 11);

        Assert.Equal(11, roc.Count);
        Assert.Equal((0.0, 0.0), (roc[0].X, roc[0].Y));
        Assert.Equal((1.0, 1.0), (roc[^1].X, roc[^1].Y));
        Assert.Equal(scores.Min(), roc[^1].Threshold);
        for (var i = 1; i < roc.Count; i++)
        {
            Assert.True(roc[i].Threshold < roc[i - 1].Threshold);
            Assert.True(roc[i].X >= roc[i - 1].X && roc[i].Y >= roc[i - 1].Y);
        }
    }

    [Fact]
    public void CurvesNeedAtLeastTwoPoints()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Curves.Roc(TiedScores, TiedLabels, maxPoints: 1));
    }

    private sealed class RoundedPairComparer : IEqualityComparer<(double, double)>
    {
        public bool Equals((double, double) x, (double, double) y) =>
            Math.Abs(x.Item1 - y.Item1) < 1e-12 && Math.Abs(x.Item2 - y.Item2) < 1e-12;

        public int GetHashCode((double, double) obj) => 0;
    }
}
