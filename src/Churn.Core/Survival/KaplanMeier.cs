namespace Churn.Core.Survival;

/// <summary>
/// The Kaplan–Meier product-limit estimate of a survival function (Kaplan and Meier, 1958): at each distinct event time
/// t, S drops by the factor (1 − d/n), with d the events at t and n the subjects still at risk (duration ≥ t).
/// Subjects censored at t count as at risk at t, the usual convention that censoring comes after events at the same time.
/// </summary>
public sealed class KaplanMeier
{
    private readonly double[] _times;
    private readonly double[] _survival;

    private KaplanMeier(double[] times, double[] survival)
    {
        _times = times;
        _survival = survival;
    }

    /// <summary>The distinct event times, ascending.</summary>
    public IReadOnlyList<double> Times => _times;

    /// <summary>S just after each of <see cref="Times"/>.</summary>
    public IReadOnlyList<double> Survival => _survival;

    /// <summary>Fits the estimate to durations and event flags (true = the event happened at that duration).</summary>
    public static KaplanMeier Fit(IReadOnlyList<double> durations, IReadOnlyList<bool> events)
    {
        var order = Enumerable.Range(0, durations.Count).OrderBy(i => durations[i]).ToArray();
        var times = new List<double>();
        var survival = new List<double>();
        var atRisk = order.Length;
        var s = 1.0;
        for (var k = 0; k < order.Length;)
        {
            var t = durations[order[k]];
            var d = 0;
            var leaving = 0;
            while (k < order.Length && durations[order[k]] == t)
            {
                d += events[order[k]] ? 1 : 0;
                leaving++;
                k++;
            }
            if (d > 0)
            {
                s *= 1 - (double)d / atRisk;
                times.Add(t);
                survival.Add(s);
            }
            atRisk -= leaving;
        }
        return new KaplanMeier([.. times], [.. survival]);
    }

    /// <summary>S(t): the share still without the event after time t (right-continuous; 1 before the first event).</summary>
    public double At(double t)
    {
        var i = StepTimes.LastAtOrBefore(_times, t);
        return i < 0 ? 1 : _survival[i];
    }

    /// <summary>S(t−): the share without the event just before time t (events at t not yet counted).</summary>
    public double Before(double t)
    {
        var i = StepTimes.LastBefore(_times, t);
        return i < 0 ? 1 : _survival[i];
    }
}
