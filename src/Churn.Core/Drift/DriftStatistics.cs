using MathNet.Numerics;

namespace Churn.Core.Drift;

/// <summary>Two-sample drift statistics, each checked in tests against hand-computed values.</summary>
public static class DriftStatistics
{
    private const double Epsilon = 1e-4;

    /// <summary>Two-sample Kolmogorov-Smirnov: the largest gap between the empirical CDFs, and its asymptotic p-value.</summary>
    public static (double Statistic, double PValue) KolmogorovSmirnov(IReadOnlyList<double> sortedReference, IReadOnlyList<double> sortedCurrent)
    {
        int n = sortedReference.Count, m = sortedCurrent.Count;
        if (n == 0 || m == 0)
        {
            return (0, 1);
        }
        int i = 0, j = 0;
        double d = 0;
        while (i < n && j < m)
        {
            var x = Math.Min(sortedReference[i], sortedCurrent[j]);
            // Step past every copy of x in both samples so ties are compared at the same point.
            while (i < n && sortedReference[i] <= x)
            {
                i++;
            }
            while (j < m && sortedCurrent[j] <= x)
            {
                j++;
            }
            d = Math.Max(d, Math.Abs((double)i / n - (double)j / m));
        }
        var ne = (double)n * m / (n + m);
        var sqrt = Math.Sqrt(ne);
        return (d, KolmogorovQ((sqrt + 0.12 + 0.11 / sqrt) * d));
    }

    /// <summary>The Kolmogorov distribution's survival function Q(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²).</summary>
    public static double KolmogorovQ(double lambda)
    {
        if (lambda < 1e-3)
        {
            return 1;
        }
        double sum = 0, sign = 1;
        for (var k = 1; k <= 100; k++)
        {
            var term = sign * Math.Exp(-2 * k * k * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12)
            {
                break;
            }
            sign = -sign;
        }
        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>Wasserstein-1 (earth mover's) distance between two empirical distributions.</summary>
    public static double Wasserstein(IReadOnlyList<double> sortedReference, IReadOnlyList<double> sortedCurrent)
    {
        int n = sortedReference.Count, m = sortedCurrent.Count;
        if (n == 0 || m == 0)
        {
            return 0;
        }
        // Integrate |F_ref(x) - F_cur(x)| over the merged support, one step at a time.
        int i = 0, j = 0;
        double area = 0;
        var previous = Math.Min(sortedReference[0], sortedCurrent[0]);
        while (i < n || j < m)
        {
            var x = j >= m || (i < n && sortedReference[i] <= sortedCurrent[j]) ? sortedReference[i] : sortedCurrent[j];
            area += Math.Abs((double)i / n - (double)j / m) * (x - previous);
            while (i < n && sortedReference[i] <= x)
            {
                i++;
            }
            while (j < m && sortedCurrent[j] <= x)
            {
                j++;
            }
            previous = x;
        }
        return area;
    }

    /// <summary>
    /// Wasserstein-1 distance between an empirical distribution (<paramref name="sortedReference"/>, each value weighing
    /// the same) and one given as distinct values in ascending order with their counts (<paramref name="sortedValues"/>,
    /// <paramref name="counts"/>, the same length). Equal to <see cref="Wasserstein(IReadOnlyList{double}, IReadOnlyList{double})"/>
    /// on the second distribution's values each repeated its count of times.
    /// </summary>
    /// <exception cref="ArgumentException">The values and counts differ in length.</exception>
    public static double Wasserstein(IReadOnlyList<double> sortedReference, IReadOnlyList<double> sortedValues, IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(sortedReference);
        ArgumentNullException.ThrowIfNull(sortedValues);
        ArgumentNullException.ThrowIfNull(counts);
        if (sortedValues.Count != counts.Count)
        {
            throw new ArgumentException($"{sortedValues.Count} values but {counts.Count} counts.", nameof(counts));
        }
        var n = sortedReference.Count;
        var k = sortedValues.Count;
        double m = counts.Sum();
        if (n == 0 || m == 0)
        {
            return 0;
        }
        int i = 0, j = 0;
        long below = 0;
        double area = 0;
        var previous = Math.Min(sortedReference[0], sortedValues[0]);
        while (i < n || j < k)
        {
            var x = j >= k || (i < n && sortedReference[i] <= sortedValues[j]) ? sortedReference[i] : sortedValues[j];
            area += Math.Abs((double)i / n - (below / m)) * (x - previous);
            while (i < n && sortedReference[i] <= x)
            {
                i++;
            }
            while (j < k && sortedValues[j] <= x)
            {
                below += counts[j];
                j++;
            }
            previous = x;
        }
        return area;
    }

    /// <summary>Pearson's chi-squared test of homogeneity between two count vectors over the same categories.</summary>
    public static (double Statistic, double PValue) ChiSquared(IReadOnlyList<double> referenceCounts, IReadOnlyList<double> currentCounts)
    {
        var refTotal = referenceCounts.Sum();
        var curTotal = currentCounts.Sum();
        if (refTotal <= 0 || curTotal <= 0)
        {
            return (0, 1);
        }
        var total = refTotal + curTotal;
        double chi = 0;
        var categories = 0;
        for (var k = 0; k < referenceCounts.Count; k++)
        {
            var column = referenceCounts[k] + currentCounts[k];
            if (column <= 0)
            {
                continue;
            }
            categories++;
            var expectedRef = column * refTotal / total;
            var expectedCur = column * curTotal / total;
            chi += (referenceCounts[k] - expectedRef) * (referenceCounts[k] - expectedRef) / expectedRef;
            chi += (currentCounts[k] - expectedCur) * (currentCounts[k] - expectedCur) / expectedCur;
        }
        var dof = categories - 1;
        return dof <= 0 ? (chi, 1) : (chi, SpecialFunctions.GammaUpperRegularized(dof / 2.0, chi / 2.0));
    }

    /// <summary>
    /// Cochran's rule for Pearson's chi-squared on a 2 × k table of reference and current counts: no expected count below 1
    /// and at most 20 % of them below 5 (W. G. Cochran, 1954, "Some methods for strengthening the common χ² tests",
    /// Biometrics 10(4):417-451). Below that the chi-squared distribution is a poor approximation of the statistic and its
    /// p-values are too small, so a handful of rows looks like drift. Categories empty on both sides are not cells.
    /// </summary>
    public static bool MeetsCochranRule(IReadOnlyList<double> referenceCounts, IReadOnlyList<double> currentCounts)
    {
        var refTotal = referenceCounts.Sum();
        var curTotal = currentCounts.Sum();
        if (refTotal <= 0 || curTotal <= 0)
        {
            return false;
        }
        var total = refTotal + curTotal;
        int cells = 0, small = 0;
        for (var k = 0; k < referenceCounts.Count; k++)
        {
            var column = referenceCounts[k] + currentCounts[k];
            if (column <= 0)
            {
                continue;
            }
            foreach (var expected in new[] { column * refTotal / total, column * curTotal / total })
            {
                cells++;
                if (expected < 1)
                {
                    return false;
                }
                small += expected < 5 ? 1 : 0;
            }
        }
        return cells >= 4 && small <= 0.2 * cells;
    }

    /// <summary>
    /// Counts fit for chi-squared: the categories as they are when they meet <see cref="MeetsCochranRule"/>, otherwise with
    /// the two rarest categories merged, again and again, as Cochran advises for sparse classes; null when even two
    /// categories do not meet it (the window is too small for the test). A category new in the current window is merged,
    /// not dropped, so it still weighs on the statistic.
    /// </summary>
    public static (double[] Reference, double[] Current)? PoolForChiSquared(IReadOnlyList<double> referenceCounts, IReadOnlyList<double> currentCounts)
    {
        var bins = Enumerable.Range(0, referenceCounts.Count)
            .Select(k => (Reference: referenceCounts[k], Current: currentCounts[k]))
            .Where(b => b.Reference + b.Current > 0)
            .ToList();
        while (bins.Count >= 2)
        {
            var reference = bins.Select(b => b.Reference).ToArray();
            var current = bins.Select(b => b.Current).ToArray();
            if (MeetsCochranRule(reference, current))
            {
                return (reference, current);
            }
            if (bins.Count == 2)
            {
                break;
            }
            bins.Sort((a, b) => (a.Reference + a.Current).CompareTo(b.Reference + b.Current));
            bins[1] = (bins[0].Reference + bins[1].Reference, bins[0].Current + bins[1].Current);
            bins.RemoveAt(0);
        }
        return null;
    }

    /// <summary>Jensen-Shannon distance (square root of the divergence, base 2), in [0, 1].</summary>
    public static double JensenShannon(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        var ps = p.Sum();
        var qs = q.Sum();
        if (ps <= 0 || qs <= 0)
        {
            return 0;
        }
        double divergence = 0;
        for (var k = 0; k < p.Count; k++)
        {
            var a = p[k] / ps;
            var b = q[k] / qs;
            var mid = (a + b) / 2;
            if (a > 0)
            {
                divergence += 0.5 * a * Math.Log2(a / mid);
            }
            if (b > 0)
            {
                divergence += 0.5 * b * Math.Log2(b / mid);
            }
        }
        return Math.Sqrt(Math.Max(0, divergence));
    }

    /// <summary>Population stability index over matching bins; empty bins count as 0.0001 so the log stays finite.</summary>
    public static double Psi(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        var es = expected.Sum();
        var @as = actual.Sum();
        if (es <= 0 || @as <= 0)
        {
            return 0;
        }
        double psi = 0;
        for (var k = 0; k < expected.Count; k++)
        {
            var e = Math.Max(expected[k] / es, Epsilon);
            var a = Math.Max(actual[k] / @as, Epsilon);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }
}
