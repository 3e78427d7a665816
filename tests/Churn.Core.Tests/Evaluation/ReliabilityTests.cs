namespace Churn.Core.Tests.Evaluation;

public class ReliabilityTests
{
    [Fact]
    public void RowsFallIntoEqualWidthBinsAndEmptyBinsAreOmitted()
    {
        double[] p = [0.05, 0.15, 0.12, 0.95, 1.0, 0.55];
        bool[] labels = [false, false, true, true, true, false];

        var bins = Reliability.Curve(p, labels);

        // 0.05 -> [0, 0.1); 0.15, 0.12 -> [0.1, 0.2); 0.55 -> [0.5, 0.6);
        // 0.95 and 1.0 -> [0.9, 1.0] (probability 1 joins the last bin).
        Assert.Equal([0.0, 0.1, 0.5, 0.9], bins.Select(b => b.Lower));
        Assert.Equal([0.1, 0.2, 0.6, 1.0], bins.Select(b => b.Upper));
        Assert.Equal([1, 2, 1, 2], bins.Select(b => b.Count));
        // Means: 0.05; (0.15 + 0.12) / 2 = 0.135; 0.55; (0.95 + 1.0) / 2 = 0.975.
        Assert.Equal([0.05, 0.135, 0.55, 0.975], bins.Select(b => Math.Round(b.MeanPredicted, 12)));
        // Observed: 0/1, 1/2, 0/1, 2/2.
        Assert.Equal([0.0, 0.5, 0.0, 1.0], bins.Select(b => b.ObservedRate));
    }

    [Fact]
    public void BinCountIsConfigurable()
    {
        var bins = Reliability.Curve([0.1, 0.6, 0.7], [false, true, true], bins: 2);

        Assert.Equal(2, bins.Count);
        Assert.Equal(new ReliabilityBin(0.5, 1.0, 2, 0.65, 1.0), bins[1] with { MeanPredicted = Math.Round(bins[1].MeanPredicted, 12) });
        Assert.Throws<ArgumentOutOfRangeException>(() => Reliability.Curve([0.1], [true], bins: 0));
    }
}
