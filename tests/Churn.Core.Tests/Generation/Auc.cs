namespace Churn.Core.Tests.Generation;

/// <summary>Area under the ROC curve by the rank-sum (Mann-Whitney) formula, with tied scores sharing their mean rank.</summary>
internal static class Auc
{
    public static double Of(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positiveRankSum = 0;
        long positives = 0;
        var start = 0;
        while (start < order.Length)
        {
            var end = start;
            while (end < order.Length && scores[order[end]] == scores[order[start]])
            {
                end++;
            }
            var meanRank = (start + end + 1) / 2.0;
            for (var k = start; k < end; k++)
            {
                if (labels[order[k]])
                {
                    positiveRankSum += meanRank;
                    positives++;
                }
            }
            start = end;
        }
        var negatives = order.Length - positives;
        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }
}
