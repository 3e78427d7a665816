namespace Churn.Core.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void ReportAgreesWithTheIndividualMetrics()
    {
        var (p, labels) = Sample(rows: 200);

        var report = Evaluator.Evaluate(p, labels, threshold: 0.5);

        Assert.Equal(200, report.Rows);
        Assert.Equal(labels.Count(l => l), report.Positives);
        Assert.Equal(BinaryMetrics.Auc(p, labels), report.Auc);
        Assert.Equal(BinaryMetrics.AucPr(p, labels), report.AucPr);
        Assert.Equal(BinaryMetrics.LogLoss(p, labels), report.LogLoss);
        Assert.Equal(BinaryMetrics.Brier(p, labels), report.Brier);
        Assert.Equal(BinaryMetrics.Confusion(p, labels, 0.5), report.Confusion);
        Assert.Equal(report.Confusion.F1, report.F1);
        Assert.Equal(Lift.ByDecile(p, labels), report.Lift);
        Assert.Equal(Curves.Roc(p, labels), report.Roc);
        Assert.Equal(Reliability.Curve(p, labels), report.Reliability);
        // 1% of 200 rows is 2, 5% is 10, 10% is 20, 20% is 40.
        Assert.Equal(["1%", "5%", "10%", "20%"], report.PrecisionAtK.Keys);
        Assert.Equal(Lift.PrecisionAtK(p, labels, 10), report.PrecisionAtK["5%"]);
        Assert.Equal(Lift.PrecisionAtK(p, labels, 40), report.PrecisionAtK["20%"]);
    }

    [Fact]
    public void PrecisionAtKRoundsRowCountsUpToAtLeastOneRow()
    {
        // 30 rows: 1% -> 0.3 -> 1 row; 5% -> 1.5 -> 2 rows; 10% -> exactly 3; 20% -> exactly 6.
        var (p, labels) = Sample(rows: 30);
        var ranked = p.Zip(labels).OrderByDescending(x => x.First).Select(x => x.Second).ToArray();

        var report = Evaluator.Evaluate(p, labels, 0.5);

        Assert.Equal(ranked.Take(1).Count(l => l) / 1.0, report.PrecisionAtK["1%"]);
        Assert.Equal(ranked.Take(2).Count(l => l) / 2.0, report.PrecisionAtK["5%"]);
        Assert.Equal(ranked.Take(3).Count(l => l) / 3.0, report.PrecisionAtK["10%"]);
        Assert.Equal(ranked.Take(6).Count(l => l) / 6.0, report.PrecisionAtK["20%"]);
    }

    [Fact]
    public void ReportWithOnlyStayersHasNullAucAndEmptyCurvesAndStillSerializes()
    {
        var report = Evaluator.Evaluate([0.1, 0.7, 0.3], [false, false, false], threshold: 0.5);

        Assert.Null(report.Auc);
        Assert.Null(report.AucPr);
        Assert.Empty(report.Roc);
        Assert.Empty(report.PrecisionRecall);
        Assert.Equal(0.0, report.Precision);
        Assert.All(report.Lift, d => Assert.Equal(0.0, d.Lift));

        var json = JsonSerializer.Serialize(report, Web);
        Assert.Contains("\"auc\":null", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportRoundTripsThroughWebJson()
    {
        var (p, labels) = Sample(rows: 50);
        var report = Evaluator.Evaluate(p, labels, 0.4);

        var json = JsonSerializer.Serialize(report, Web);
        var back = JsonSerializer.Deserialize<EvaluationReport>(json, Web)!;

        Assert.Contains("\"precisionAtK\":{\"1%\":", json, StringComparison.Ordinal);
        Assert.Contains("\"truePositives\":", json, StringComparison.Ordinal);
        Assert.Equal(report.Auc, back.Auc);
        Assert.Equal(report.Confusion, back.Confusion);
        Assert.Equal(report.Lift, back.Lift);
        Assert.Equal(report.Roc, back.Roc);
        Assert.Equal(report.PrecisionRecall, back.PrecisionRecall);
        Assert.Equal(report.Reliability, back.Reliability);
        Assert.Equal(report.PrecisionAtK, back.PrecisionAtK);
    }

    [Fact]
    public void EvaluateRefusesValuesThatAreNotProbabilities()
    {
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate([0.2, 1.5], [true, false], 0.5));
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate([0.2, 0.5], [true, false], double.NaN));
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate([], [], 0.5));
    }

    private static (double[] Probabilities, bool[] Labels) Sample(int rows)
    {
        var random = new Random(rows);
        var p = new double[rows];
        var labels = new bool[rows];
        for (var i = 0; i < rows; i++)
        {
            // Rounded to two decimals so ties occur, as they do with tree-model probabilities.
            p[i] = Math.Round(random.NextDouble(), 2);
            labels[i] = random.NextDouble() < p[i];
        }
        return (p, labels);
    }
}
