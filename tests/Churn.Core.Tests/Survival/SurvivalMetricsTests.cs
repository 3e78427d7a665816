using Churn.Core.Survival;

namespace Churn.Core.Tests.Survival;

public class SurvivalMetricsTests
{
    // Four customers: churned at 1, censored at 2, churned at 3, censored at 4.
    private static readonly double[] Durations = [1, 2, 3, 4];
    private static readonly bool[] Events = [true, false, true, false];

    [Fact]
    public void ConcordanceIndexMatchesAHandCount()
    {
        // Comparable pairs (i churned, t_i < t_j): (0,1) tie in risk = 0.5, (0,2) and (0,3) concordant, (2,3) discordant.
        double[] risk = [0.5, 0.5, 0.2, 0.3];

        Assert.Equal(2.5 / 4, SurvivalMetrics.ConcordanceIndex(Durations, Events, risk), 1e-12);
    }

    [Fact]
    public void ConcordanceIndexLeavesPairsWithEqualDurationsOut()
    {
        // Both churned at 1: not comparable. Only (0,2) and (1,2) count, one concordant, one discordant.
        double[] durations = [1, 1, 2];
        bool[] events = [true, true, false];

        Assert.Equal(0.5, SurvivalMetrics.ConcordanceIndex(durations, events, [0.9, 0.1, 0.5]), 1e-12);
        Assert.True(double.IsNaN(SurvivalMetrics.ConcordanceIndex([1, 2], [false, false], [0.1, 0.2])));
    }

    [Fact]
    public void ConcordanceIndexAgreesWithThePairwiseDefinitionOnTiedData()
    {
        var random = new Random(5);
        var n = 300;
        var durations = Enumerable.Range(0, n).Select(_ => (double)random.Next(1, 15)).ToArray();
        var events = Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.6).ToArray();
        var risk = Enumerable.Range(0, n).Select(i => Math.Round(-durations[i] / 3 + random.NextDouble() * 3, 1)).ToArray();
        double concordant = 0, pairs = 0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (events[i] && durations[i] < durations[j])
                {
                    pairs++;
                    concordant += risk[i] > risk[j] ? 1 : risk[i] == risk[j] ? 0.5 : 0;
                }
            }
        }

        Assert.Equal(concordant / pairs, SurvivalMetrics.ConcordanceIndex(durations, events, risk), 1e-12);
    }

    [Fact]
    public void KaplanMeierDropsOnlyAtEventTimes()
    {
        var km = KaplanMeier.Fit(Durations, Events);

        Assert.Equal(1, km.At(0.5));
        Assert.Equal(0.75, km.At(1), 1e-12);
        Assert.Equal(0.75, km.At(2.9), 1e-12);
        Assert.Equal(0.375, km.At(3), 1e-12);
        Assert.Equal(0.75, km.Before(3), 1e-12);
    }

    [Fact]
    public void BrierScoreWeightsByTheCensoringDistributionAsGrafDefinesIt()
    {
        // Everyone gets S = 0.8, 0.6, 0.4, 0.2 at times 1..4. The censoring estimate G is 1 before 2 and 2/3 from 2 on.
        var curves = Same([1, 2, 3, 4], [0.8, 0.6, 0.4, 0.2], 4);

        // t = 1: churner at 1 gives 0.8²/G(1−) = 0.64; three still observed give 0.2²/G(1) = 0.04 each.
        Assert.Equal(0.76 / 4, SurvivalMetrics.BrierScore(curves, Durations, Events, 1), 1e-12);
        // t = 2: churner 0.6² = 0.36; the one censored at 2 gives nothing; two observed give 0.4²/(2/3) = 0.24 each.
        Assert.Equal(0.84 / 4, SurvivalMetrics.BrierScore(curves, Durations, Events, 2), 1e-12);
        // t = 3: churner at 1: 0.4² = 0.16; churner at 3: 0.4²/G(3−) = 0.24; the one observed: 0.6²/(2/3) = 0.54.
        Assert.Equal(0.94 / 4, SurvivalMetrics.BrierScore(curves, Durations, Events, 3), 1e-12);
        // Trapezoid over [1, 3]: ((0.19 + 0.21)/2 + (0.21 + 0.235)/2) / 2.
        Assert.Equal(0.21125, SurvivalMetrics.IntegratedBrier(curves, Durations, Events, [1, 2, 3]), 1e-12);
    }

    [Fact]
    public void CalibrationComparesTheMeanPredictionWithKaplanMeier()
    {
        var curves = Same([1, 2, 3, 4], [0.8, 0.6, 0.4, 0.2], 4);

        var calibration = SurvivalMetrics.Calibration(curves, Durations, Events, [1, 3]);

        Assert.Equal([1.0, 3.0], calibration.Select(c => c.Horizon));
        Assert.Equal(0.2, calibration[0].Predicted, 1e-12);
        Assert.Equal(0.25, calibration[0].Observed, 1e-12);
        Assert.Equal(0.6, calibration[1].Predicted, 1e-12);
        Assert.Equal(0.625, calibration[1].Observed, 1e-12);
        Assert.Equal(4, calibration[1].Groups.Sum(g => g.Count));
    }

    [Fact]
    public void RestrictedMeanIsTheAreaUnderTheStepCurve()
    {
        var curves = Same([1, 2, 3, 4], [0.8, 0.6, 0.4, 0.2], 1);

        // 1·1 + 0.8·1 + 0.6·1 + 0.4·0.5 over [0, 3.5].
        Assert.Equal(2.6, curves.RestrictedMean(0, 3.5), 1e-12);
        Assert.Equal(-2.6, curves.RiskScores(3.5)[0], 1e-12);
    }

    private static SurvivalCurves Same(double[] times, double[] values, int rows) =>
        new(times, [.. Enumerable.Range(0, rows).Select(_ => values.ToArray())]);
}
