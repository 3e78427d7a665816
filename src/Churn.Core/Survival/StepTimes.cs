namespace Churn.Core.Survival;

/// <summary>
/// Where a time falls on the ascending times at which a survival step function steps (Kaplan–Meier's event times, a
/// curve's grid): the step in force at time t is the one of the last step time at or before t.
/// </summary>
internal static class StepTimes
{
    /// <summary>Index of the last of <paramref name="times"/> at or before <paramref name="t"/>; −1 when t comes before them all.</summary>
    public static int LastAtOrBefore(IReadOnlyList<double> times, double t) => CountBefore(times, t, orAt: true) - 1;

    /// <summary>Index of the last of <paramref name="times"/> strictly before <paramref name="t"/>; −1 when there is none.</summary>
    public static int LastBefore(IReadOnlyList<double> times, double t) => CountBefore(times, t, orAt: false) - 1;

    // Binary search for how many of the ascending times come before t (or at it, with orAt).
    private static int CountBefore(IReadOnlyList<double> times, double t, bool orAt)
    {
        int lo = 0, hi = times.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (times[mid] < t || (orAt && times[mid] == t))
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
