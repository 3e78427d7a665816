namespace Churn.Core.Tests.Evaluation;

public class ThresholdSelectorTests
{
    [Fact]
    public void MaxF1PicksTheBestDistinctProbability()
    {
        double[] p = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3];
        bool[] labels = [true, false, true, true, false, false];

        // P = 3, F1 = 2TP / (TP + FP + P):
        //   0.9: 2/4 = 0.50   0.8: 2/5 = 0.40   0.7: 4/6 = 0.67
        //   0.6: 6/7 = 0.86   0.4: 6/8 = 0.75   0.3: 6/9 = 0.67
        Assert.Equal(0.6, ThresholdSelector.ByMaxF1(p, labels));
    }

    [Fact]
    public void MaxF1BreaksTiesTowardTheHigherThreshold()
    {
        // P = 2. 0.9: 2/3; 0.7: 2/4; 0.5: 2/5; 0.3: TP 2, FP 2 -> 4/6 = 2/3, equal to 0.9's.
        Assert.Equal(0.9, ThresholdSelector.ByMaxF1([0.9, 0.7, 0.5, 0.3], [true, false, false, true]));
    }

    [Fact]
    public void ProfitThresholdMaximisesRealisedProfit()
    {
        double[] p = [0.9, 0.8, 0.6, 0.4, 0.2];
        bool[] labels = [true, false, true, false, false];
        var value = new BusinessValue(RetainedCustomerValue: 100, ContactCost: 10, ContactSuccessRate: 0.5);

        var choice = ThresholdSelector.ByProfit(p, labels, value);

        // Each contacted churner is worth 0.5 * 100 = 50; each contact costs 10.
        //   0.9: 1 churner of 1 contacted -> 50 - 10 = 40
        //   0.8: 1 of 2 -> 50 - 20 = 30
        //   0.6: 2 of 3 -> 100 - 30 = 70   <- best
        //   0.4: 2 of 4 -> 100 - 40 = 60
        //   0.2: 2 of 5 -> 100 - 50 = 50
        Assert.Equal(0.6, choice.Threshold);
        Assert.Equal(70.0, choice.ExpectedProfit);
        // 0.6 is on the grid, so the curve is just the 101 grid points, ascending.
        Assert.Equal(101, choice.Curve.Count);
        Assert.Equal(new ProfitPoint(0.0, 5, 50.0), choice.Curve[0]);
        Assert.Equal(new ProfitPoint(0.5, 3, 70.0), choice.Curve[50]);
        Assert.Equal(new ProfitPoint(0.6, 3, 70.0), choice.Curve[60]);
        Assert.Equal(new ProfitPoint(0.85, 1, 40.0), choice.Curve[85]);
        Assert.Equal(new ProfitPoint(1.0, 0, 0.0), choice.Curve[100]);
    }

    [Fact]
    public void AnOffGridChosenThresholdIsInsertedIntoTheCurve()
    {
        // As above with 0.655 (between grid points 0.65 and 0.66) in place of 0.6: the best threshold
        // is 0.655 with profit 70.
        var choice = ThresholdSelector.ByProfit(
            [0.9, 0.8, 0.655, 0.4, 0.2], [true, false, true, false, false], new BusinessValue(100, 10, 0.5));

        Assert.Equal(0.655, choice.Threshold);
        Assert.Equal(102, choice.Curve.Count);
        Assert.Contains(new ProfitPoint(0.655, 3, 70.0), choice.Curve);
        Assert.Equal(choice.Curve.OrderBy(point => point.Threshold), choice.Curve);
    }

    [Fact]
    public void ContactingNobodyWinsWhenEveryContactLosesMoney()
    {
        // A churner is worth 0.5 * 10 = 5 and a contact costs 100: any contact loses money.
        var choice = ThresholdSelector.ByProfit([0.9, 0.1], [true, false], new BusinessValue(10, 100, 0.5));

        Assert.Equal(0.0, choice.ExpectedProfit);
        Assert.True(choice.Threshold > 0.9, "the threshold must flag nobody");
        Assert.Equal(0, choice.Curve.Single(point => point.Threshold == choice.Threshold).Contacted);
    }

    [Fact]
    public void BusinessValueRejectsNegativeAmountsAndRatesOutsideTheUnitInterval()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BusinessValue(-1, 10, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BusinessValue(100, -10, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BusinessValue(100, 10, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BusinessValue(100, double.NaN, 0.5));
    }
}
