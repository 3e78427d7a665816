namespace Churn.Core.Tests.Evaluation;

public class BinaryMetricsTests
{
    [Fact]
    public void AucCountsTiedPairsAsOneHalf()
    {
        double[] scores = [0.9, 0.8, 0.8, 0.4, 0.4, 0.1];
        bool[] labels = [true, true, false, true, false, false];

        // Pairs (churner, stayer) won, with ties as 1/2:
        //   0.9 beats 0.8, 0.4, 0.1            -> 3
        //   0.8 ties 0.8, beats 0.4, 0.1       -> 2.5
        //   0.4 loses to 0.8, ties 0.4, beats 0.1 -> 1.5
        // (3 + 2.5 + 1.5) / (3 * 3) = 7/9.
        // Same by average ranks: churner ranks 6 + 4.5 + 2.5 = 13, U = 13 - 3*4/2 = 7.
        Assert.Equal(7.0 / 9.0, BinaryMetrics.Auc(scores, labels), 1e-12);
    }

    [Fact]
    public void AucOfAPerfectRankingIsOneAndOfItsReverseIsZero()
    {
        double[] scores = [0.1, 0.2, 0.3, 0.7, 0.8];
        bool[] labels = [false, false, false, true, true];
        double[] reversed = [0.9, 0.8, 0.7, 0.3, 0.2];

        Assert.Equal(1.0, BinaryMetrics.Auc(scores, labels));
        Assert.Equal(0.0, BinaryMetrics.Auc(reversed, labels));
    }

    [Fact]
    public void AucOfConstantScoresIsOneHalf()
    {
        Assert.Equal(0.5, BinaryMetrics.Auc([0.3, 0.3, 0.3], [true, false, false]));
    }

    [Fact]
    public void AucRefusesOneClassAndMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Auc([0.1, 0.9], [true, true]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Auc([0.1, 0.9], [false, false]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Auc([0.1, 0.9, 0.5], [true, false]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Auc([0.1, double.NaN], [true, false]));
    }

    [Fact]
    public void AveragePrecisionSumsRecallStepsTimesPrecision()
    {
        double[] scores = [0.9, 0.8, 0.7, 0.6, 0.5];
        bool[] labels = [true, false, true, false, true];

        // P = 3. Threshold 0.9: TP 1, FP 0 -> R 1/3, P 1      -> (1/3) * 1
        //        0.8: TP 1, FP 1 -> recall unchanged          -> 0
        //        0.7: TP 2, FP 1 -> R 2/3, P 2/3              -> (1/3) * (2/3)
        //        0.6: recall unchanged                        -> 0
        //        0.5: TP 3, FP 2 -> R 1, P 3/5                -> (1/3) * (3/5)
        // 1/3 + 2/9 + 1/5 = 34/45.
        Assert.Equal(34.0 / 45.0, BinaryMetrics.AucPr(scores, labels), 1e-12);
    }

    [Fact]
    public void AveragePrecisionTreatsTiedScoresAsOneThreshold()
    {
        double[] scores = [0.9, 0.5, 0.5, 0.2];
        bool[] labels = [false, true, false, true];

        // P = 2. 0.9: TP 0 -> no recall step. 0.5 (both rows): TP 1, FP 2 -> (1/2) * (1/3).
        // 0.2: TP 2, FP 2 -> (1/2) * (1/2). Total 1/6 + 1/4 = 5/12. Splitting the tie with the
        // churner first would wrongly give 1/4 + 1/4 = 1/2.
        Assert.Equal(5.0 / 12.0, BinaryMetrics.AucPr(scores, labels), 1e-12);
    }

    [Fact]
    public void AveragePrecisionRefusesDataWithoutChurners()
    {
        Assert.Throws<ArgumentException>(() => BinaryMetrics.AucPr([0.1, 0.9], [false, false]));
    }

    [Fact]
    public void LogLossIsTheMeanNegativeLogLikelihood()
    {
        // -(ln 0.8 + ln(1 - 0.3)) / 2 = (0.22314 + 0.35667) / 2 = 0.28991.
        Assert.Equal(0.2899092476264711, BinaryMetrics.LogLoss([0.8, 0.3], [true, false]), 1e-12);
    }

    [Fact]
    public void LogLossClipsCertainMistakesToAFiniteCost()
    {
        // p = 0 for a churner is clipped to 1e-15: -ln(1e-15) = 34.538776394910684.
        Assert.Equal(34.538776394910684, BinaryMetrics.LogLoss([0.0], [true]), 1e-12);

        // p = 1 for a stayer is clipped to 1 - 1e-15, which rounds to a double slightly below it;
        // 1 minus that is 9.992e-16, and -ln(9.992e-16) = 34.53957599234088.
        Assert.Equal(34.53957599234088, BinaryMetrics.LogLoss([1.0], [false]), 1e-12);

        // Certain and right costs -ln(1 - 1e-15), about 1e-15, not exactly 0.
        var right = BinaryMetrics.LogLoss([1.0, 0.0], [true, false]);
        Assert.InRange(right, 1e-16, 1e-14);
    }

    [Fact]
    public void LogLossRefusesValuesThatAreNotProbabilities()
    {
        Assert.Throws<ArgumentException>(() => BinaryMetrics.LogLoss([1.2], [true]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.LogLoss([double.NaN], [true]));
    }

    [Fact]
    public void BrierIsTheMeanSquaredError()
    {
        // ((0.8 - 1)^2 + (0.3 - 0)^2 + (0.5 - 1)^2) / 3 = (0.04 + 0.09 + 0.25) / 3 = 0.38 / 3.
        Assert.Equal(0.38 / 3.0, BinaryMetrics.Brier([0.8, 0.3, 0.5], [true, false, true]), 1e-12);
    }

    [Fact]
    public void ConfusionPredictsChurnAtOrAboveTheThreshold()
    {
        double[] p = [0.9, 0.7, 0.5, 0.5, 0.2, 0.1];
        bool[] labels = [true, false, true, false, true, false];

        var matrix = BinaryMetrics.Confusion(p, labels, 0.5);

        // At >= 0.5: 0.9 T (TP), 0.7 F (FP), 0.5 T (TP), 0.5 F (FP); below: 0.2 T (FN), 0.1 F (TN).
        Assert.Equal(new ConfusionMatrix(2, 2, 1, 1), matrix);
        Assert.Equal(3.0 / 6.0, matrix.Accuracy, 1e-12);
        Assert.Equal(2.0 / 4.0, matrix.Precision, 1e-12);
        Assert.Equal(2.0 / 3.0, matrix.Recall, 1e-12);
        // F1 = 2TP / (2TP + FP + FN) = 4 / 7, the harmonic mean of 1/2 and 2/3.
        Assert.Equal(4.0 / 7.0, matrix.F1, 1e-12);
    }

    [Fact]
    public void ConfusionRatiosWithNoDenominatorAreZero()
    {
        var nobodyFlagged = new ConfusionMatrix(0, 0, 5, 0);

        Assert.Equal(0.0, nobodyFlagged.Precision);
        Assert.Equal(0.0, nobodyFlagged.Recall);
        Assert.Equal(0.0, nobodyFlagged.F1);
        Assert.Equal(1.0, nobodyFlagged.Accuracy);
        Assert.Equal(0.0, new ConfusionMatrix(0, 0, 0, 0).Accuracy);
    }
}
