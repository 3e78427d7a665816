using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace Churn.Core.Campaigns;

/// <summary>An interval [Low, High] around an estimate, at the confidence level it was computed for.</summary>
public readonly record struct Interval(double Low, double High)
{
    /// <summary>True when the interval lies wholly above or wholly below zero.</summary>
    public bool ExcludesZero => Low > 0 || High < 0;

    /// <summary>True when <paramref name="value"/> lies inside the closed interval.</summary>
    public bool Covers(double value) => value >= Low && value <= High;
}

/// <summary>
/// Statistics of binary outcomes in randomised arms: rates with Wilson score intervals, the difference of two
/// rates with Newcombe's hybrid score interval, and the chi-squared sample-ratio-mismatch test.
/// </summary>
public static class ProportionStatistics
{
    /// <summary>The two-sided 95 % normal quantile (1.959964).</summary>
    public static readonly double Z95 = Normal.InvCDF(0, 1, 0.975);

    /// <summary>
    /// Wilson score interval for a proportion (Wilson, 1927, JASA 22:209-212). Unlike the Wald interval it
    /// stays inside [0, 1] and keeps its coverage at rates near 0 or 1 and in small arms.
    /// </summary>
    /// <param name="successes">Count of positive outcomes, 0 ≤ successes ≤ n.</param>
    /// <param name="n">Arm size; must be positive.</param>
    /// <param name="z">Normal quantile of the confidence level (1.96 for 95 %).</param>
    /// <exception cref="ArgumentOutOfRangeException">n is not positive, or successes is outside [0, n].</exception>
    public static Interval Wilson(long successes, long n, double z)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (successes < 0 || successes > n)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes, $"Successes must lie in [0, {n}].");
        }
        var p = (double)successes / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// Interval for the difference of two independent proportions p1 − p0, by Newcombe's hybrid score method
    /// ("method 10" in Newcombe, 1998, Statistics in Medicine 17:873-890), built from the two Wilson intervals.
    /// In large arms it agrees with the Wald interval p1 − p0 ± z·√(p1(1−p1)/n1 + p0(1−p0)/n0); in small or
    /// extreme arms it keeps its coverage where Wald collapses to zero width.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An arm is empty, or its successes lie outside [0, n].</exception>
    public static Interval Difference(long successes1, long n1, long successes0, long n0, double z)
    {
        var p1 = (double)successes1 / n1;
        var p0 = (double)successes0 / n0;
        var w1 = Wilson(successes1, n1, z);
        var w0 = Wilson(successes0, n0, z);
        var d = p1 - p0;
        var below = Math.Sqrt(Square(p1 - w1.Low) + Square(w0.High - p0));
        var above = Math.Sqrt(Square(w1.High - p1) + Square(p0 - w0.Low));
        return new Interval(d - below, d + above);
    }

    /// <summary>
    /// Pearson's chi-squared goodness-of-fit test of arm sizes against the planned split: the p-value of seeing
    /// sizes at least this far from the plan if assignment worked as planned. A small p (below 0.001 by common
    /// practice) is a sample-ratio mismatch: the assignment or the logging is broken and effects are not to be trusted.
    /// </summary>
    /// <param name="counts">Observed size of each arm.</param>
    /// <param name="plannedShares">Planned share of each arm, same order; normalised to sum 1.</param>
    /// <returns>The chi-squared statistic (k − 1 degrees of freedom) and its p-value; p = 1 with fewer than two arms.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, or a planned share is not positive.</exception>
    public static (double ChiSquared, double PValue) SampleRatioMismatch(IReadOnlyList<long> counts, IReadOnlyList<double> plannedShares)
    {
        if (counts.Count != plannedShares.Count)
        {
            throw new ArgumentException("Each arm needs one planned share.", nameof(plannedShares));
        }
        if (plannedShares.Any(s => !(s > 0)))
        {
            throw new ArgumentException("Planned shares must be positive.", nameof(plannedShares));
        }
        var total = counts.Sum();
        if (counts.Count < 2 || total == 0)
        {
            return (0, 1);
        }
        var shareSum = plannedShares.Sum();
        double chi = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            var expected = total * plannedShares[i] / shareSum;
            chi += Square(counts[i] - expected) / expected;
        }
        return (chi, SpecialFunctions.GammaUpperRegularized((counts.Count - 1) / 2.0, chi / 2));
    }

    private static double Square(double x) => x * x;
}
