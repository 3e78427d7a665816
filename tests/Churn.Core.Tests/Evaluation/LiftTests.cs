namespace Churn.Core.Tests.Evaluation;

public class LiftTests
{
    // Twenty customers ranked from score 20 down to 1; 6 churned, so the base rate is 6/20 = 0.3.
    // Deciles are pairs:  1: T T   2: T F   3: T F   4: F F   5: T F
    //                     6: F F   7: F F   8: F T   9: F F  10: F F
    private static readonly bool[] LabelsByRank =
        [true, true, true, false, true, false, false, false, true, false, false, false, false, false, false, true, false, false, false, false];

    private static (double[] Scores, bool[] Labels) TwentyCustomersInAscendingOrder()
    {
        // Fed lowest score first so the test also checks that ranking happens.
        var scores = Enumerable.Range(1, 20).Select(i => (double)i).ToArray();
        var labels = LabelsByRank.Reverse().ToArray();
        return (scores, labels);
    }

    [Fact]
    public void DecileLiftAndGainsFollowTheRanking()
    {
        var (scores, labels) = TwentyCustomersInAscendingOrder();

        var deciles = Lift.ByDecile(scores, labels);

        Assert.Equal(10, deciles.Count);
        Assert.All(deciles, d => Assert.Equal(2, d.Customers));
        Assert.Equal([2, 1, 1, 0, 1, 0, 0, 1, 0, 0], deciles.Select(d => d.Churners));
        // Decile 1: rate 2/2 = 1, lift 1 / 0.3 = 3.33, gain 2/6.
        Assert.Equal(1, deciles[0].Decile);
        Assert.Equal(1.0, deciles[0].ChurnRate);
        Assert.Equal(1.0 / 0.3, deciles[0].Lift, 1e-12);
        // Decile 2: rate 1/2, lift 0.5 / 0.3 = 1.67, gain 3/6.
        Assert.Equal(0.5, deciles[1].ChurnRate);
        Assert.Equal(0.5 / 0.3, deciles[1].Lift, 1e-12);
        Assert.Equal(
            [2 / 6.0, 3 / 6.0, 4 / 6.0, 4 / 6.0, 5 / 6.0, 5 / 6.0, 5 / 6.0, 1.0, 1.0, 1.0],
            deciles.Select(d => d.CumulativeGain),
            (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(0.0, deciles[3].Lift);
    }

    [Fact]
    public void PrecisionAtKCountsChurnersAmongTheTopK()
    {
        var (scores, labels) = TwentyCustomersInAscendingOrder();

        // Top five by score: T T T F T -> 4 / 5.
        Assert.Equal(0.8, Lift.PrecisionAtK(scores, labels, 5), 1e-12);
        Assert.Equal(1.0, Lift.PrecisionAtK(scores, labels, 1));
        Assert.Equal(0.3, Lift.PrecisionAtK(scores, labels, 20), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lift.PrecisionAtK(scores, labels, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lift.PrecisionAtK(scores, labels, 21));
    }

    [Fact]
    public void TiesAtTheCutOffAreTakenInInputOrder()
    {
        Assert.Equal(0.0, Lift.PrecisionAtK([0.5, 0.5, 0.5], [false, true, false], 1));
        Assert.Equal(1.0, Lift.PrecisionAtK([0.5, 0.5, 0.5], [true, false, false], 1));
    }

    [Fact]
    public void FewerThanTenRowsOmitEmptyDeciles()
    {
        // Five rows: decile d holds positions [floor((d-1)*5/10), floor(d*5/10)), so only the
        // even deciles get a row.
        var deciles = Lift.ByDecile([0.9, 0.7, 0.5, 0.3, 0.1], [true, false, false, false, false]);

        Assert.Equal([2, 4, 6, 8, 10], deciles.Select(d => d.Decile));
        Assert.Equal(5.0, deciles[0].Lift, 1e-12);
    }
}
