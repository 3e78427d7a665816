namespace Churn.Core.Evaluation;

/// <summary>
/// Scores sorted from highest to lowest with their labels, plus one entry per distinct score
/// ("tie group") holding the cumulative true and false positives when every row at or above that
/// score is predicted positive. AUC, average precision, both curves and both threshold choices are
/// single passes over the groups, so the evaluator sorts once and shares this.
/// </summary>
internal sealed class RankedScores
{
    private RankedScores(double[] scores, bool[] labels, double[] thresholds, int[] truePositives, int[] falsePositives, int positives)
    {
        Scores = scores;
        Labels = labels;
        Thresholds = thresholds;
        CumulativeTruePositives = truePositives;
        CumulativeFalsePositives = falsePositives;
        Positives = positives;
    }

    /// <summary>Scores, highest first; rows with equal scores keep their input order.</summary>
    public double[] Scores { get; }

    /// <summary>Labels in the order of <see cref="Scores"/>.</summary>
    public bool[] Labels { get; }

    /// <summary>Distinct scores, highest first.</summary>
    public double[] Thresholds { get; }

    /// <summary>Positives with a score at or above <see cref="Thresholds"/>[g].</summary>
    public int[] CumulativeTruePositives { get; }

    /// <summary>Negatives with a score at or above <see cref="Thresholds"/>[g].</summary>
    public int[] CumulativeFalsePositives { get; }

    public int Count => Scores.Length;

    public int Positives { get; }

    public int Negatives => Scores.Length - Positives;

    public int Groups => Thresholds.Length;

    /// <summary>
    /// Refuses a ranking without positives, for the measures that are undefined (or meaningless) then;
    /// <paramref name="consequence"/> says which and ends the message "labels holds no positives; ...".
    /// </summary>
    /// <exception cref="ArgumentException">There is no positive (the parameter named is <c>labels</c>).</exception>
    public void RequirePositives(string consequence)
    {
        if (Positives == 0)
        {
            throw new ArgumentException($"labels holds no positives; {consequence}", "labels");
        }
    }

    /// <summary>Rows in tie group g.</summary>
    public int GroupSize(int g) => GroupPositives(g) + GroupNegatives(g);

    public int GroupPositives(int g) => CumulativeTruePositives[g] - (g == 0 ? 0 : CumulativeTruePositives[g - 1]);

    public int GroupNegatives(int g) => CumulativeFalsePositives[g] - (g == 0 ? 0 : CumulativeFalsePositives[g - 1]);

    /// <summary>
    /// The smallest threshold that predicts nobody positive under the "score &gt;= threshold" rule.
    /// It stands in for the +infinity other libraries use, because infinity is not valid JSON.
    /// </summary>
    public double AboveMaximum => Math.BitIncrement(Thresholds[0]);

    /// <summary>Sorts validated input. Callers check lengths and finiteness first.</summary>
    public static RankedScores Build(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        var n = scores.Length;
        var sorted = scores.ToArray();
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        // The primitive-key sort is fast but unstable; reversing gives descending order, and
        // re-sorting the indices inside each tie group makes the order stable. Stability matters
        // for lift and precision at k, where a tie group can straddle a cut-off.
        Array.Sort(sorted, order);
        Array.Reverse(sorted);
        Array.Reverse(order);

        var sortedLabels = new bool[n];
        var thresholds = new List<double>();
        var truePositives = new List<int>();
        var falsePositives = new List<int>();
        int tp = 0, fp = 0;
        for (var start = 0; start < n;)
        {
            var end = start + 1;
            while (end < n && sorted[end] == sorted[start])
            {
                end++;
            }
            if (end - start > 1)
            {
                Array.Sort(order, start, end - start);
            }
            for (var i = start; i < end; i++)
            {
                var label = labels[order[i]];
                sortedLabels[i] = label;
                if (label)
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            thresholds.Add(sorted[start]);
            truePositives.Add(tp);
            falsePositives.Add(fp);
            start = end;
        }

        return new RankedScores(sorted, sortedLabels, [.. thresholds], [.. truePositives], [.. falsePositives], tp);
    }
}
