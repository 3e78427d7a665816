using Churn.Core.Campaigns;

namespace Churn.Core.Tests.Campaigns;

public class UpliftMetricsTests
{
    // Eight customers: the treated responders score highest, the control responders lowest.
    private static readonly bool[] Treated = [true, true, false, true, false, true, false, false];
    private static readonly bool[] Outcomes = [true, true, false, false, false, false, true, true];

    [Fact]
    public void ThePerfectOrderHasAQiniCoefficientOfOne()
    {
        // Treated responders, then every non-responder, then the control responders; each of the last two groups tied, as the best order groups them.
        double[] scores = [8, 7, 5, 5, 5, 5, 2, 2];

        Assert.Equal(1, UpliftMetrics.QiniCoefficient(scores, Treated, Outcomes), 1e-10);
    }

    [Fact]
    public void ACheckGivesTheFiguresAndTheCurveOrNothingWhenAnArmIsMissing()
    {
        // The perfect order ten times over, so the top 30 % holds both arms.
        double[] perfect = [8, 7, 5, 5, 5, 5, 2, 2];
        double[] scores = [.. Enumerable.Range(0, 10).SelectMany(_ => perfect)];
        bool[] treated = [.. Enumerable.Range(0, 10).SelectMany(_ => Treated)];
        bool[] outcomes = [.. Enumerable.Range(0, 10).SelectMany(_ => Outcomes)];

        var check = UpliftMetrics.Check(scores, treated, outcomes, resamples: 50, seed: 1);

        Assert.NotNull(check);
        Assert.Equal(80, check.Customers);
        Assert.Equal(1, check.Score.Qini.Value, 1e-10);
        Assert.Equal(UpliftMetrics.QiniCurve(scores, treated, outcomes), check.Curve);
        // One arm only, or a top 30 % (two of eight customers) without a control customer: the figures are undefined.
        Assert.Null(UpliftMetrics.Check(scores, [.. treated.Select(_ => true)], outcomes, resamples: 50, seed: 1));
        Assert.Null(UpliftMetrics.Check(perfect, Treated, Outcomes, resamples: 50, seed: 1));
    }

    [Fact]
    public void ThinningKeepsTheFirstAndLastPointsAndAtMostTheCountAsked()
    {
        var curve = Enumerable.Range(0, 1000).Select(i => new QiniPoint(i, i * 0.5)).ToList();

        var thin = UpliftMetrics.Thin(curve, 101);

        Assert.Equal(101, thin.Count);
        Assert.Equal(curve[0], thin[0]);
        Assert.Equal(curve[^1], thin[^1]);
        Assert.Equal(curve.Take(50), UpliftMetrics.Thin(curve.Take(50).ToList(), 101));
    }

    [Fact]
    public void TheReversedOrderIsWorseThanRandom()
    {
        double[] scores = [1, 2, 3, 4, 5, 6, 7, 8];

        Assert.True(UpliftMetrics.QiniCoefficient(scores, Treated, Outcomes) < 0);
    }

    [Fact]
    public void QiniCurveCountsTreatedAgainstScaledControlResponders()
    {
        // Top 4 by score: treated 1, 1, 0 (rows 0, 1, 3) and control 0 (row 2): Qini(4) = 2 - 0 = 2.
        // All 8: treated responders 2 of 4, control responders 2 of 4: Qini(8) = 2 - 2 * 4 / 4 = 0.
        double[] scores = [8, 7, 6, 5, 4, 3, 2, 1];

        var curve = UpliftMetrics.QiniCurve(scores, Treated, Outcomes);

        Assert.Equal(new QiniPoint(0, 0), curve[0]);
        Assert.Equal(2, curve.Single(p => p.Targeted == 4).Qini, 1e-10);
        Assert.Equal(0, curve[^1].Qini, 1e-10);
    }

    [Fact]
    public void TiedScoresFormOneStepOfTheCurve()
    {
        var curve = UpliftMetrics.QiniCurve([1, 1, 1, 1, 1, 1, 1, 1], Treated, Outcomes);

        Assert.Equal([new QiniPoint(0, 0), new QiniPoint(8, 0)], curve);
    }

    [Fact]
    public void UpliftAtKComparesTreatedAndControlRatesInTheTopShare()
    {
        // Top half (4 rows): treated 2 of 3 respond, control 0 of 1: uplift 0.667.
        double[] scores = [8, 7, 6, 5, 4, 3, 2, 1];

        Assert.Equal(2.0 / 3, UpliftMetrics.UpliftAtK(scores, Treated, Outcomes, 0.5), 1e-10);
    }

    [Fact]
    public void BootstrapIntervalsContainTheEstimate()
    {
        var random = new Random(1);
        var n = 2000;
        var x = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
        var treated = Enumerable.Range(0, n).Select(_ => random.Next(2) == 0).ToArray();
        // Treatment helps only customers with x above one half.
        var outcomes = Enumerable.Range(0, n).Select(i => random.NextDouble() < 0.1 + (treated[i] && x[i] > 0.5 ? 0.3 : 0)).ToArray();

        var score = UpliftMetrics.Evaluate(x, treated, outcomes, 200, 7);

        Assert.InRange(score.Qini.Value, score.Qini.Low, score.Qini.High);
        Assert.True(score.Qini.Low > 0.1, $"{score.Qini}");
        var shuffled = UpliftMetrics.Evaluate([.. x.Select(_ => random.NextDouble())], treated, outcomes, 200, 7);
        Assert.True(shuffled.Qini.High < score.Qini.Low, $"{shuffled.Qini} against {score.Qini}");
        Assert.InRange(score.UpliftAt30.Value, 0.2, 0.4);
    }
}
