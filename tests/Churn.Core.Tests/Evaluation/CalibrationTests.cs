namespace Churn.Core.Tests.Evaluation;

public class CalibrationTests
{
    [Fact]
    public void PlattAndIsotonicBothFixAnOverconfidentScoreOnHeldOutData()
    {
        // The truth is p = sigmoid(z), but the model's raw score is 3z, so the naive sigmoid of
        // the score is far too confident. Fit on one sample, judge on another.
        var (fitScores, fitLabels) = Overconfident(seed: 11, rows: 4000);
        var (testScores, testLabels) = Overconfident(seed: 12, rows: 4000);

        var platt = CalibratorFitter.FitPlatt(fitScores, fitLabels);
        var isotonic = CalibratorFitter.FitIsotonic(fitScores, fitLabels);

        var naiveBrier = BinaryMetrics.Brier(testScores.Select(Sigmoid).ToArray(), testLabels);
        var plattBrier = BinaryMetrics.Brier(testScores.Select(platt.Apply).ToArray(), testLabels);
        var isotonicBrier = BinaryMetrics.Brier(testScores.Select(isotonic.Apply).ToArray(), testLabels);

        Assert.True(plattBrier < naiveBrier - 0.01, $"Platt {plattBrier:F4} vs naive {naiveBrier:F4}");
        Assert.True(isotonicBrier < naiveBrier - 0.01, $"isotonic {isotonicBrier:F4} vs naive {naiveBrier:F4}");
        // The fitted slope should undo the factor 3: p = 1 / (1 + exp(A * 3z + B)) with A near -1/3.
        Assert.InRange(platt.A, -0.40, -0.27);
    }

    [Fact]
    public void PlattRecoversTheParametersOfAKnownLogistic()
    {
        const double a = -1.5, b = 0.5;
        var random = new Random(3);
        var scores = new double[20_000];
        var labels = new bool[scores.Length];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = 2 * Normal(random);
            labels[i] = random.NextDouble() < 1 / (1 + Math.Exp((a * scores[i]) + b));
        }

        var model = CalibratorFitter.FitPlatt(scores, labels);

        Assert.Equal("platt", model.Method);
        Assert.InRange(model.A, a - 0.1, a + 0.1);
        Assert.InRange(model.B, b - 0.1, b + 0.1);
    }

    [Fact]
    public void PlattCalibrationLeavesAucExactlyUnchanged()
    {
        var (scores, labels) = Overconfident(seed: 5, rows: 2000);

        var model = CalibratorFitter.FitPlatt(scores, labels);
        var calibrated = scores.Select(model.Apply).ToArray();

        Assert.Equal(BinaryMetrics.Auc(scores, labels), BinaryMetrics.Auc(calibrated, labels));
    }

    [Fact]
    public void PlattStaysFiniteOnPerfectlySeparableData()
    {
        // Without Platt's smoothed targets the likelihood would push A to minus infinity here.
        var model = CalibratorFitter.FitPlatt([-2.0, -1.0, 1.0, 2.0], [false, false, true, true]);

        Assert.True(double.IsFinite(model.A) && model.A < 0);
        Assert.True(model.Apply(2.0) > 0.5 && model.Apply(2.0) < 1.0);
    }

    [Fact]
    public void IsotonicPoolsViolatorsAndInterpolatesBetweenBlockMeans()
    {
        // Sorted labels 0 1 0 1 1: the 1 at score 2 and the 0 at score 3 violate order and pool
        // to 0.5 at mean score 2.5; the two 1s pool (equal means merge) to 1 at mean score 4.5.
        var model = CalibratorFitter.FitIsotonic([5.0, 3.0, 1.0, 4.0, 2.0], [true, false, false, true, true]);

        Assert.Equal([1.0, 2.5, 4.5], model.Thresholds);
        Assert.Equal([0.0, 0.5, 1.0], model.Values);
        // Between (1, 0) and (2.5, 0.5): 0.5 * (2 - 1) / 1.5 = 1/3. Between (2.5, 0.5) and (4.5, 1): 0.75.
        Assert.Equal(1.0 / 3.0, model.Apply(2.0), 1e-12);
        Assert.Equal(0.75, model.Apply(3.5), 1e-12);
        // Clamped outside the fitted range.
        Assert.Equal(0.0, model.Apply(-10.0));
        Assert.Equal(1.0, model.Apply(10.0));
    }

    [Fact]
    public void IsotonicPoolsTiedScoresBeforeFitting()
    {
        var model = CalibratorFitter.FitIsotonic([1.0, 1.0, 2.0], [true, false, true]);

        Assert.Equal([1.0, 2.0], model.Thresholds);
        Assert.Equal([0.5, 1.0], model.Values);
    }

    [Fact]
    public void IsotonicOutputIsMonotoneNonDecreasing()
    {
        var (scores, labels) = Overconfident(seed: 9, rows: 3000);

        var model = CalibratorFitter.FitIsotonic(scores, labels);

        for (var i = 1; i < model.Thresholds.Count; i++)
        {
            Assert.True(model.Thresholds[i] > model.Thresholds[i - 1]);
            Assert.True(model.Values[i] >= model.Values[i - 1]);
        }
        var previous = -1.0;
        for (var s = -15.0; s <= 15.0; s += 0.01)
        {
            var p = model.Apply(s);
            Assert.True(p >= previous && p is >= 0 and <= 1, $"Apply({s}) = {p} after {previous}");
            previous = p;
        }
    }

    [Fact]
    public void NoneClampsToTheUnitInterval()
    {
        Assert.Equal(0.4, CalibrationModel.None.Apply(0.4));
        Assert.Equal(1.0, CalibrationModel.None.Apply(1.3));
        Assert.Equal(0.0, CalibrationModel.None.Apply(-0.2));
    }

    [Fact]
    public void FittersRefuseDataWithOneClass()
    {
        Assert.Throws<ArgumentException>(() => CalibratorFitter.FitPlatt([0.1, 0.2], [true, true]));
        Assert.Throws<ArgumentException>(() => CalibratorFitter.FitIsotonic([0.1, 0.2], [false, false]));
    }

    [Fact]
    public void CalibrationModelsRoundTripThroughModelCardJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var isotonic = CalibrationModel.Isotonic([1.0, 2.5], [0.2, 0.9]);
        var platt = CalibrationModel.Platt(-0.5, 0.25);

        var isotonicJson = JsonSerializer.Serialize(isotonic, options);
        var isotonicBack = JsonSerializer.Deserialize<CalibrationModel>(isotonicJson, options)!;
        var plattBack = JsonSerializer.Deserialize<CalibrationModel>(JsonSerializer.Serialize(platt, options), options)!;

        Assert.Contains("\"method\":\"isotonic\"", isotonicJson, StringComparison.Ordinal);
        Assert.Equal(isotonic.Apply(1.7), isotonicBack.Apply(1.7));
        Assert.Equal(platt.Apply(0.3), plattBack.Apply(0.3));
    }

    [Fact]
    public void AnUnknownMethodFailsLoudlyWhenApplied()
    {
        var edited = new CalibrationModel { Method = "beta" };

        Assert.Throws<InvalidOperationException>(() => edited.Apply(0.5));
    }

    private static (double[] Scores, bool[] Labels) Overconfident(int seed, int rows)
    {
        var random = new Random(seed);
        var scores = new double[rows];
        var labels = new bool[rows];
        for (var i = 0; i < rows; i++)
        {
            var z = (1.5 * Normal(random)) - 1.0;
            labels[i] = random.NextDouble() < Sigmoid(z);
            scores[i] = 3 * z;
        }
        return (scores, labels);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // Box-Muller: one standard normal from two uniforms; seeded Random keeps the data fixed.
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
