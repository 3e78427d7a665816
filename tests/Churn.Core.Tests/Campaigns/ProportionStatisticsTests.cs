using Churn.Core.Campaigns;

namespace Churn.Core.Tests.Campaigns;

public class ProportionStatisticsTests
{
    [Fact]
    public void WilsonIntervalMatchesNewcombesPublishedExample()
    {
        // Newcombe (1998), Statistics in Medicine 17:857, 81 of 263: score interval 0.2553 to 0.3662.
        var ci = ProportionStatistics.Wilson(81, 263, ProportionStatistics.Z95);

        Assert.Equal(0.2553, ci.Low, 1e-4);
        Assert.Equal(0.3662, ci.High, 1e-4);
    }

    [Fact]
    public void DifferenceIntervalMatchesNewcombesMethodTenExample()
    {
        // Newcombe (1998), Statistics in Medicine 17:873, 56/70 against 48/80: method 10 gives 0.0524 to 0.3339.
        var ci = ProportionStatistics.Difference(56, 70, 48, 80, ProportionStatistics.Z95);

        Assert.Equal(0.0524, ci.Low, 1e-4);
        Assert.Equal(0.3339, ci.High, 1e-4);
    }

    [Fact]
    public void DifferenceIntervalKeepsWidthWhenBothArmsHaveNoPositives()
    {
        var ci = ProportionStatistics.Difference(0, 20, 0, 20, ProportionStatistics.Z95);

        Assert.True(ci.Low < -0.1 && ci.High > 0.1, $"{ci}");
    }

    [Fact]
    public void SampleRatioTestOfAnEqualSplitMatchesTheChiSquaredByHand()
    {
        // Expected 100 each: chi = (10² + 10²) / 100 = 2 on one degree of freedom, p = 0.1573.
        var (chi, p) = ProportionStatistics.SampleRatioMismatch([110, 90], [1, 1]);

        Assert.Equal(2, chi, 1e-10);
        Assert.Equal(0.1573, p, 1e-4);
    }

    [Fact]
    public void SampleRatioTestUsesThePlannedSharesNotAnEqualSplit()
    {
        // A 90/10 plan met exactly is no mismatch; the same sizes against 50/50 are.
        Assert.Equal(1, ProportionStatistics.SampleRatioMismatch([900, 100], [0.9, 0.1]).PValue, 1e-10);
        Assert.True(ProportionStatistics.SampleRatioMismatch([900, 100], [0.5, 0.5]).PValue < 1e-10);
    }

    [Fact]
    public void ReadoutPutsTheControlFirstAndComparesEveryOtherArmWithIt()
    {
        var units = Enumerable.Range(0, 100).Select(i => new ArmOutcome("offer", i < 30))
            .Concat(Enumerable.Range(0, 100).Select(i => new ArmOutcome("holdout", i < 20)));

        var readout = ExperimentReadout.Compute(units, "holdout");

        Assert.Equal(["holdout", "offer"], readout.Arms.Select(a => a.Name));
        var effect = Assert.Single(readout.Effects);
        Assert.Equal(0.10, effect.Difference, 1e-10);
        Assert.True(effect.CiLow < 0.10 && effect.CiHigh > 0.10);
    }

    [Fact]
    public void ReadoutWithoutTheControlArmNamesTheArmsThatExist()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ExperimentReadout.Compute([new ArmOutcome("a", true), new ArmOutcome("b", false)], "c"));

        Assert.Contains("'c'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'a', 'b'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "0", "1", "2" }, "more than two")]
    [InlineData(new[] { "0" }, "one value only")]
    [InlineData(new[] { "left", "stayed" }, "name the positive value")]
    public void AnOutcomeThatIsNotAPairIsRefused(string[] values, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => BinaryOutcome.ChoosePositive(values, "visit", positive: null));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANamedPositiveValueMakesAnyPairAnOutcome()
    {
        Assert.Equal("left", BinaryOutcome.ChoosePositive(["left", "stayed"], "status", "LEFT"));
        Assert.Equal("Yes", BinaryOutcome.ChoosePositive(["No", "Yes"], "churned", positive: null));
    }
}
