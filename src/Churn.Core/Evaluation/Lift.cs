namespace Churn.Core.Evaluation;

/// <summary>
/// How much better than random the ranking is at the top: lift and cumulative gains by decile,
/// and precision among the k highest-scored customers. Rows with equal scores keep their input
/// order, so a tie straddling a cut-off is split deterministically.
/// </summary>
public static class Lift
{
    /// <summary>
    /// Splits rows, highest score first, into ten near-equal deciles: decile d holds positions
    /// [floor((d-1)n/10), floor(dn/10)). With fewer than ten rows some deciles are empty and are omitted.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty or not finite.</exception>
    public static IReadOnlyList<DecileLift> ByDecile(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        return ByDecile(RankedScores.Build(scores, labels));
    }

    internal static IReadOnlyList<DecileLift> ByDecile(RankedScores ranked)
    {
        const int deciles = 10;
        var n = ranked.Count;
        var overallRate = (double)ranked.Positives / n;
        var result = new List<DecileLift>(deciles);
        var cumulativeChurners = 0;
        for (var d = 1; d <= deciles; d++)
        {
            var start = (int)((long)(d - 1) * n / deciles);
            var end = (int)((long)d * n / deciles);
            if (end == start)
            {
                continue;
            }
            var churners = 0;
            for (var i = start; i < end; i++)
            {
                if (ranked.Labels[i])
                {
                    churners++;
                }
            }
            cumulativeChurners += churners;
            var rate = (double)churners / (end - start);
            result.Add(new DecileLift(
                d,
                end - start,
                churners,
                rate,
                ranked.Positives == 0 ? 0.0 : rate / overallRate,
                ranked.Positives == 0 ? 0.0 : (double)cumulativeChurners / ranked.Positives));
        }
        return result;
    }

    /// <summary>Share of churners among the <paramref name="k"/> highest-scored rows.</summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not in [1, rows].</exception>
    public static double PrecisionAtK(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, int k)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        return PrecisionAtK(RankedScores.Build(scores, labels), k);
    }

    internal static double PrecisionAtK(RankedScores ranked, int k)
    {
        if (k < 1 || k > ranked.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the number of rows ({ranked.Count}).");
        }
        var churners = 0;
        for (var i = 0; i < k; i++)
        {
            if (ranked.Labels[i])
            {
                churners++;
            }
        }
        return (double)churners / k;
    }
}
