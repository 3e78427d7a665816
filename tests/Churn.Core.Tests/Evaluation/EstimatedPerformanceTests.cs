namespace Churn.Core.Tests.Evaluation;

public class EstimatedPerformanceTests
{
    [Fact]
    public void EachPredictionContributesItsProbabilityToTheExpectedConfusionMatrix()
    {
        // Threshold 0.5: 0.9 and 0.6 are flagged (TP 1.5, FP 0.5); 0.2 and 0.1 are not (FN 0.3, TN 1.7).
        double[] probabilities = [0.9, 0.6, 0.2, 0.1];

        var estimate = EstimatedPerformance.From(probabilities, 0.5)!;

        Assert.Equal(4, estimate.Rows);
        Assert.Equal(0.45, estimate.ExpectedPositiveShare, 1e-12);
        Assert.Equal(3.2 / 4, estimate.Accuracy, 1e-12);
        Assert.Equal(1.5 / 2.0, estimate.Precision, 1e-12);
        Assert.Equal(1.5 / 1.8, estimate.Recall, 1e-12);
        Assert.Equal(3.0 / (3.0 + 0.5 + 0.3), estimate.F1, 1e-12);
    }

    [Fact]
    public void EstimatedMetricsTrackRealisedOnesWhenOutcomesFollowTheProbabilities()
    {
        var random = new Random(3);
        var probabilities = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble() * random.NextDouble()).ToArray();
        var labels = probabilities.Select(p => random.NextDouble() < p).ToArray();

        var estimate = EstimatedPerformance.From(probabilities, 0.3)!;
        var realised = BinaryMetrics.Confusion(probabilities, labels, 0.3);

        // Measured error on this seed is well under 0.01 for each metric; 0.02 leaves room for sampling noise.
        Assert.Equal(realised.Accuracy, estimate.Accuracy, 0.02);
        Assert.Equal(realised.Precision, estimate.Precision, 0.02);
        Assert.Equal(realised.Recall, estimate.Recall, 0.02);
        Assert.Equal(realised.F1, estimate.F1, 0.02);
    }

    [Fact]
    public void NoRowsGiveNoEstimate() => Assert.Null(EstimatedPerformance.From([], 0.5));
}
