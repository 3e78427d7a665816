namespace Churn.Core.Evaluation;

/// <summary>
/// Reliability curve: predicted probability against observed churn rate. A calibrated model
/// sits on the diagonal.
/// </summary>
public static class Reliability
{
    /// <summary>
    /// Groups rows into <paramref name="bins"/> equal-width bins over [0, 1]; row p falls into
    /// bin min(floor(p * bins), bins - 1). Empty bins are omitted because their rates are undefined.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty, or a probability is outside [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is less than 1.</exception>
    public static IReadOnlyList<ReliabilityBin> Curve(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, int bins = 10)
    {
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        if (bins < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "At least one bin is needed.");
        }

        var counts = new int[bins];
        var churners = new int[bins];
        var sums = new double[bins];
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            var bin = Math.Min((int)(p * bins), bins - 1);
            counts[bin]++;
            sums[bin] += p;
            if (labels[i])
            {
                churners[bin]++;
            }
        }

        var result = new List<ReliabilityBin>(bins);
        for (var b = 0; b < bins; b++)
        {
            if (counts[b] == 0)
            {
                continue;
            }
            result.Add(new ReliabilityBin(
                (double)b / bins,
                (double)(b + 1) / bins,
                counts[b],
                sums[b] / counts[b],
                (double)churners[b] / counts[b]));
        }
        return result;
    }
}
