namespace Churn.Core.Survival;

/// <summary>
/// Predicted survival curves of several customers on one time grid: <c>S(t | x)</c>, the probability of not having
/// churned by time t, as a step function that is 1 before the first grid time and holds each grid value until the next.
/// </summary>
public sealed class SurvivalCurves
{
    /// <summary>Builds curves; throws <see cref="ArgumentException"/> when a curve's length differs from the grid's.</summary>
    public SurvivalCurves(IReadOnlyList<double> times, double[][] values)
    {
        if (values.Any(v => v.Length != times.Count))
        {
            throw new ArgumentException("Every curve needs one value per grid time.", nameof(values));
        }
        Times = times;
        Values = values;
    }

    /// <summary>The grid, ascending and positive, in the duration's unit.</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>One curve per customer: S at each grid time, non-increasing, in [0, 1].</summary>
    public double[][] Values { get; }

    public int Count => Values.Length;

    /// <summary>S(t) of one customer.</summary>
    public double At(int row, double t)
    {
        var k = StepTimes.LastAtOrBefore(Times, t);
        return k < 0 ? 1 : Values[row][k];
    }

    /// <summary>
    /// The restricted mean survival time over [0, <paramref name="horizon"/>]: the area under the step curve, which is the
    /// expected time without churn within the horizon (Royston and Parmar, 2013).
    /// </summary>
    public double RestrictedMean(int row, double horizon)
    {
        var area = 0.0;
        var previous = 0.0;
        var s = 1.0;
        for (var k = 0; k < Times.Count && Times[k] < horizon; k++)
        {
            area += s * (Times[k] - previous);
            previous = Times[k];
            s = Values[row][k];
        }
        return area + s * (horizon - previous);
    }

    /// <summary>
    /// A risk score for ranking (higher = churns sooner): minus the restricted mean over [0, <paramref name="horizon"/>],
    /// the expected lifetime the model reports. Curves of a boosted model may cross, so the score depends on the horizon;
    /// the last prediction horizon ranks the customers on the span the model is asked about.
    /// </summary>
    public double[] RiskScores(double horizon)
    {
        var risk = new double[Count];
        for (var i = 0; i < risk.Length; i++)
        {
            risk[i] = -RestrictedMean(i, horizon);
        }
        return risk;
    }

    /// <summary>The pointwise mixture <c>w·a + (1 − w)·b</c> of two sets of curves on the same grid (itself a survival curve).</summary>
    public static SurvivalCurves Blend(SurvivalCurves a, SurvivalCurves b, double w)
    {
        if (!a.Times.SequenceEqual(b.Times) || a.Count != b.Count)
        {
            throw new ArgumentException("Blended curves need the same grid and customers.", nameof(b));
        }
        var values = new double[a.Count][];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new double[a.Times.Count];
            for (var k = 0; k < values[i].Length; k++)
            {
                values[i][k] = w * a.Values[i][k] + (1 - w) * b.Values[i][k];
            }
        }
        return new SurvivalCurves(a.Times, values);
    }
}
