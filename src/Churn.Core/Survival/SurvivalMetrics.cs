namespace Churn.Core.Survival;

/// <summary>How well predicted survival matches one horizon: the mean predicted churn against the Kaplan–Meier observed churn, overall and by risk group.</summary>
/// <param name="Horizon">The horizon, in the duration's unit.</param>
/// <param name="Predicted">Mean predicted P(churn within the horizon).</param>
/// <param name="Observed">1 − Kaplan–Meier survival at the horizon.</param>
/// <param name="Groups">Customers split into equal-sized groups by predicted risk at the horizon, lowest first.</param>
public sealed record HorizonCalibration(double Horizon, double Predicted, double Observed, IReadOnlyList<CalibrationGroup> Groups);

/// <summary>One risk group of a <see cref="HorizonCalibration"/>.</summary>
/// <param name="Count">Customers in the group.</param>
/// <param name="Predicted">Their mean predicted P(churn within the horizon).</param>
/// <param name="Observed">1 − their Kaplan–Meier survival at the horizon.</param>
public sealed record CalibrationGroup(int Count, double Predicted, double Observed);

/// <summary>The evaluation of survival predictions on data with known outcomes.</summary>
/// <param name="CIndex">Harrell's concordance index (see <see cref="SurvivalMetrics.ConcordanceIndex"/>).</param>
/// <param name="IntegratedBrier">The IPCW integrated Brier score over the grid up to the last horizon (lower is better; 0.25 is an uninformative constant 0.5).</param>
/// <param name="Calibration">Calibration at each horizon.</param>
public sealed record SurvivalEvaluation(double CIndex, double IntegratedBrier, IReadOnlyList<HorizonCalibration> Calibration);

/// <summary>Metrics of survival predictions against observed, right-censored durations.</summary>
public static class SurvivalMetrics
{
    /// <summary>
    /// Harrell's concordance index (Harrell et al., 1982): over the comparable pairs — i had the event and
    /// t_i &lt; t_j — the share where i has the higher risk, ties in risk counting one half. Pairs with equal
    /// durations are not comparable. O(n log n) with a Fenwick tree over the risk ranks.
    /// </summary>
    /// <param name="durations">Observed durations.</param>
    /// <param name="events">True where the duration ended with the event.</param>
    /// <param name="risk">Predicted risk, higher meaning the event comes sooner.</param>
    /// <returns>The index in [0, 1], or NaN when no pair is comparable.</returns>
    public static double ConcordanceIndex(IReadOnlyList<double> durations, IReadOnlyList<bool> events, IReadOnlyList<double> risk)
    {
        var n = durations.Count;
        if (events.Count != n || risk.Count != n)
        {
            throw new ArgumentException("durations, events and risk must have the same length.", nameof(risk));
        }
        var distinct = risk.Distinct().Order().ToArray();
        var rank = new int[n];
        for (var i = 0; i < n; i++)
        {
            rank[i] = Array.BinarySearch(distinct, risk[i]) + 1;
        }
        var tree = new long[distinct.Length + 1];
        var order = Enumerable.Range(0, n).OrderByDescending(i => durations[i]).ToArray();
        double concordant = 0, tied = 0, pairs = 0;
        long inserted = 0;
        for (var k = 0; k < n;)
        {
            // The tree holds every subject with a strictly longer duration than this group's.
            var end = k;
            while (end < n && durations[order[end]] == durations[order[k]])
            {
                end++;
            }
            for (var g = k; g < end; g++)
            {
                var i = order[g];
                if (!events[i])
                {
                    continue;
                }
                var lower = Prefix(tree, rank[i] - 1);
                var atMost = Prefix(tree, rank[i]);
                concordant += lower;
                tied += atMost - lower;
                pairs += inserted;
            }
            for (var g = k; g < end; g++)
            {
                for (var r = rank[order[g]]; r < tree.Length; r += r & -r)
                {
                    tree[r]++;
                }
                inserted++;
            }
            k = end;
        }
        return pairs == 0 ? double.NaN : (concordant + 0.5 * tied) / pairs;
    }

    /// <summary>
    /// The Brier score at time t with inverse-probability-of-censoring weights (Graf et al., 1999):
    /// (1/n) Σ [ 1{T_i ≤ t, δ_i = 1} S(t|x_i)² / G(T_i−) + 1{T_i &gt; t} (1 − S(t|x_i))² / G(t) ], where G is the
    /// Kaplan–Meier estimate of the censoring distribution on the same data. Subjects censored by t carry no term; the
    /// weights make up for them.
    /// </summary>
    public static double BrierScore(SurvivalCurves predicted, IReadOnlyList<double> durations, IReadOnlyList<bool> events, double t) =>
        BrierScore(predicted, durations, events, t, CensoringDistribution(durations, events));

    /// <summary>
    /// The integrated Brier score: the Brier score (see <see cref="BrierScore(SurvivalCurves, IReadOnlyList{double}, IReadOnlyList{bool}, double)"/>)
    /// integrated by the trapezoid rule over <paramref name="times"/> (ascending) and divided by their span; with one time, the score there.
    /// </summary>
    public static double IntegratedBrier(SurvivalCurves predicted, IReadOnlyList<double> durations, IReadOnlyList<bool> events, IReadOnlyList<double> times)
    {
        if (times.Count == 0)
        {
            throw new ArgumentException("At least one time is needed.", nameof(times));
        }
        var censoring = CensoringDistribution(durations, events);
        var scores = times.Select(t => BrierScore(predicted, durations, events, t, censoring)).ToArray();
        if (times.Count == 1)
        {
            return scores[0];
        }
        var area = 0.0;
        for (var k = 1; k < times.Count; k++)
        {
            area += (scores[k] + scores[k - 1]) / 2 * (times[k] - times[k - 1]);
        }
        return area / (times[^1] - times[0]);
    }

    /// <summary>
    /// Calibration at each horizon: mean predicted P(T ≤ h) against 1 − Kaplan–Meier S(h), overall and in
    /// <paramref name="groups"/> equal-sized groups by predicted risk (fewer when there are under 20 customers per group).
    /// </summary>
    public static IReadOnlyList<HorizonCalibration> Calibration(SurvivalCurves predicted, IReadOnlyList<double> durations, IReadOnlyList<bool> events, IReadOnlyList<double> horizons, int groups = 5)
    {
        var result = new List<HorizonCalibration>();
        var n = predicted.Count;
        var g = Math.Max(1, Math.Min(groups, n / 20));
        foreach (var h in horizons)
        {
            var p = new double[n];
            for (var i = 0; i < n; i++)
            {
                p[i] = 1 - predicted.At(i, h);
            }
            var order = Enumerable.Range(0, n).OrderBy(i => p[i]).ToArray();
            var bins = new List<CalibrationGroup>();
            for (var b = 0; b < g; b++)
            {
                var members = order[(b * n / g)..((b + 1) * n / g)];
                if (members.Length == 0)
                {
                    continue;
                }
                var km = KaplanMeier.Fit([.. members.Select(i => durations[i])], [.. members.Select(i => events[i])]);
                bins.Add(new CalibrationGroup(members.Length, members.Average(i => p[i]), 1 - km.At(h)));
            }
            result.Add(new HorizonCalibration(h, n == 0 ? double.NaN : p.Average(), 1 - KaplanMeier.Fit(durations, events).At(h), bins));
        }
        return result;
    }

    /// <summary>
    /// The C-index of the risk scores over the last horizon (<see cref="SurvivalCurves.RiskScores"/>), the integrated Brier
    /// score over the grid times up to the last horizon, and the horizon calibration.
    /// </summary>
    public static SurvivalEvaluation Evaluate(SurvivalCurves predicted, IReadOnlyList<double> durations, IReadOnlyList<bool> events, IReadOnlyList<double> horizons)
    {
        var last = horizons[^1];
        var times = predicted.Times.Where(t => t <= last).Append(last).Distinct().ToArray();
        return new SurvivalEvaluation(
            ConcordanceIndex(durations, events, predicted.RiskScores(last)),
            IntegratedBrier(predicted, durations, events, times),
            Calibration(predicted, durations, events, horizons));
    }

    private static KaplanMeier CensoringDistribution(IReadOnlyList<double> durations, IReadOnlyList<bool> events) =>
        KaplanMeier.Fit(durations, [.. events.Select(e => !e)]);

    private static double BrierScore(SurvivalCurves predicted, IReadOnlyList<double> durations, IReadOnlyList<bool> events, double t, KaplanMeier censoring)
    {
        var n = predicted.Count;
        var sum = 0.0;
        var stillObserved = censoring.At(t);
        for (var i = 0; i < n; i++)
        {
            var s = predicted.At(i, t);
            if (durations[i] <= t && events[i])
            {
                var g = censoring.Before(durations[i]);
                sum += g > 0 ? s * s / g : 0;
            }
            else if (durations[i] > t)
            {
                sum += stillObserved > 0 ? (1 - s) * (1 - s) / stillObserved : 0;
            }
        }
        return sum / n;
    }

    private static long Prefix(long[] tree, int r)
    {
        long sum = 0;
        for (; r > 0; r -= r & -r)
        {
            sum += tree[r];
        }
        return sum;
    }
}
