namespace Churn.Core.Tests.Evaluation;

/// <summary>Entry points that share one argument check refuse bad input alike, naming the argument and the position.</summary>
public class ArgumentCheckTests
{
    public static TheoryData<double> BadProbabilities => [double.NaN, -0.01, 1.01, double.PositiveInfinity];

    [Theory]
    [MemberData(nameof(BadProbabilities))]
    public void EveryEvaluationOfProbabilitiesRefusesOneOutsideZeroToOneNamingItsPosition(double bad)
    {
        double[] probabilities = [.. Enumerable.Repeat(0.5, 25)];
        probabilities[3] = bad;
        bool[] labels = [.. Enumerable.Range(0, 25).Select(i => i % 2 == 0)];

        var messages = new[]
        {
            Assert.Throws<ArgumentException>(() => CalibrationCheck.From(probabilities, labels)).Message,
            Assert.Throws<ArgumentException>(() => EstimatedPerformance.From(probabilities, 0.5)).Message,
            Assert.Throws<ArgumentException>(() => Reliability.Curve(probabilities, labels)).Message,
        };

        Assert.All(messages, m => Assert.StartsWith($"probabilities[3] is {bad}; probabilities must lie in [0, 1].", m, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void TheGeneratorAndTheChurnMechanismRefuseTheSameDrifts(double drift)
    {
        var options = Assert.Throws<ArgumentOutOfRangeException>(() => new GeneratorOptions { Rows = 10, Drift = drift });
        var mechanism = Assert.Throws<ArgumentOutOfRangeException>(() => ChurnMechanism.At(drift));

        Assert.Equal("Drift", options.ParamName);
        Assert.Equal("drift", mechanism.ParamName);
        Assert.StartsWith("Drift must be between 0 and 1.", options.Message, StringComparison.Ordinal);
        Assert.StartsWith("Drift must be between 0 and 1.", mechanism.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BothStratifiedFoldingsRefuseFewerThanTwoFolds()
    {
        bool[] labels = [true, false, true, false];
        int[] strata = [0, 1, 0, 1];

        var byLabel = Assert.Throws<ArgumentOutOfRangeException>(() => DataSplits.StratifiedFolds(labels, 1, 42));
        var byStratum = Assert.Throws<ArgumentOutOfRangeException>(() => DataSplits.StratifiedFolds(strata, 1, 42));

        Assert.Equal("k", byLabel.ParamName);
        Assert.Equal("k", byStratum.ParamName);
        Assert.StartsWith("At least 2 folds are needed.", byStratum.Message, StringComparison.Ordinal);
    }
}
