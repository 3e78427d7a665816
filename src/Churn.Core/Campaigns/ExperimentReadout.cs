namespace Churn.Core.Campaigns;

/// <summary>One unit of a finished experiment: the arm it was assigned to, its binary outcome and an optional segment.</summary>
public readonly record struct ArmOutcome(string Arm, bool Outcome, string? Segment = null);

/// <summary>One arm's size and outcome rate, with the rate's 95 % Wilson interval. Rates are proportions in [0, 1].</summary>
public sealed record ArmSummary(string Name, long N, long Positives, double Rate, double CiLow, double CiHigh, bool Control);

/// <summary>
/// The incremental effect of one arm against the control: its rate minus the control's rate (a proportion; 0.0452 is
/// 4.52 points), with the 95 % Newcombe hybrid score interval.
/// </summary>
public sealed record ArmEffect(string Arm, double Difference, double CiLow, double CiHigh)
{
    /// <summary>True when the interval excludes zero.</summary>
    public bool Significant => new Interval(CiLow, CiHigh).ExcludesZero;
}

/// <summary>The read-out of one segment (a value of the segment column): the same figures as the whole.</summary>
public sealed record SegmentReadout(string Segment, IReadOnlyList<ArmSummary> Arms, IReadOnlyList<ArmEffect> Effects, double SampleRatioP);

/// <summary>
/// The read-out of a randomised experiment: every arm's size and outcome rate, every arm's effect against the
/// control with its interval, and a sample-ratio-mismatch test of the arm sizes against the planned split;
/// optionally the same per segment.
/// </summary>
public sealed record ExperimentReadout(
    IReadOnlyList<ArmSummary> Arms,
    IReadOnlyList<ArmEffect> Effects,
    double SampleRatioChiSquared,
    double SampleRatioP,
    IReadOnlyList<SegmentReadout> Segments)
{
    /// <summary>
    /// Computes the read-out. Arms are listed control first, then the others in order of first appearance;
    /// segments in ordinal order of their names (units without a segment are left out of the segment list only).
    /// </summary>
    /// <param name="units">The experiment's units.</param>
    /// <param name="control">The control arm's name.</param>
    /// <param name="plannedShares">Planned share per arm for the sample-ratio test; equal shares when null.</param>
    /// <exception cref="InvalidDataException">
    /// There are no units, the control arm is absent, there is no arm besides the control, or a planned share is
    /// missing for an arm.
    /// </exception>
    public static ExperimentReadout Compute(IEnumerable<ArmOutcome> units, string control, IReadOnlyDictionary<string, double>? plannedShares = null)
    {
        var all = units as IReadOnlyList<ArmOutcome> ?? [.. units];
        if (all.Count == 0)
        {
            throw new InvalidDataException("The experiment has no units.");
        }
        var order = ArmOrder(all, control);
        if (!order.Contains(control))
        {
            throw new InvalidDataException($"The control arm '{control}' does not occur; the arms are: {string.Join(", ", order.Select(a => $"'{a}'"))}.");
        }
        if (order.Count < 2)
        {
            throw new InvalidDataException($"Only the control arm '{control}' occurs: there is nothing to compare it with.");
        }
        var shares = order.Select(a => plannedShares is null ? 1.0
            : plannedShares.TryGetValue(a, out var s) ? s : throw new InvalidDataException($"No planned share is given for arm '{a}'.")).ToArray();
        var (arms, effects, chi, p) = Summarise(all, order, shares, control);
        var segments = all.Where(u => u.Segment is not null).GroupBy(u => u.Segment!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var (a, e, _, sp) = Summarise([.. g], order, shares, control);
                return new SegmentReadout(g.Key, a, e, sp);
            }).ToList();
        return new ExperimentReadout(arms, effects, chi, p, segments);
    }

    private static List<string> ArmOrder(IReadOnlyList<ArmOutcome> units, string control)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var u in units)
        {
            if (seen.Add(u.Arm))
            {
                order.Add(u.Arm);
            }
        }
        if (order.Remove(control))
        {
            order.Insert(0, control);
        }
        return order;
    }

    // Within a segment an arm may be empty: it is left out of that segment's list and has no effect there, and the
    // sample-ratio test covers the arms present.
    private static (List<ArmSummary>, List<ArmEffect>, double, double) Summarise(IReadOnlyList<ArmOutcome> units, List<string> order, double[] shares, string control)
    {
        var n = new long[order.Count];
        var positives = new long[order.Count];
        var index = order.Select((a, i) => (a, i)).ToDictionary(x => x.a, x => x.i, StringComparer.Ordinal);
        foreach (var u in units)
        {
            var i = index[u.Arm];
            n[i]++;
            positives[i] += u.Outcome ? 1 : 0;
        }
        var z = ProportionStatistics.Z95;
        var arms = new List<ArmSummary>();
        var rates = new double[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            if (n[i] == 0)
            {
                continue;
            }
            var ci = ProportionStatistics.Wilson(positives[i], n[i], z);
            rates[i] = (double)positives[i] / n[i];
            arms.Add(new ArmSummary(order[i], n[i], positives[i], rates[i], ci.Low, ci.High, order[i] == control));
        }
        var effects = new List<ArmEffect>();
        var c = index[control];
        for (var i = 0; i < order.Count; i++)
        {
            if (i == c || n[i] == 0 || n[c] == 0)
            {
                continue;
            }
            var ci = ProportionStatistics.Difference(positives[i], n[i], positives[c], n[c], z);
            effects.Add(new ArmEffect(order[i], rates[i] - rates[c], ci.Low, ci.High));
        }
        var present = Enumerable.Range(0, order.Count).Where(i => n[i] > 0).ToArray();
        var (chi, p) = ProportionStatistics.SampleRatioMismatch([.. present.Select(i => n[i])], [.. present.Select(i => shares[i])]);
        return (arms, effects, chi, p);
    }
}
