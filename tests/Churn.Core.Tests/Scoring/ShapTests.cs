using Churn.Core.Scoring;

namespace Churn.Core.Tests.Scoring;

/// <summary>
/// Exact SHAP values against their definition: Shapley values of the game whose value for a coalition S is the
/// path-dependent expectation of the model's log-odds given the features in S, computed by enumerating every subset.
/// </summary>
public sealed class ShapTests
{
    // Static fields initialise in order: the names come first.
    private static readonly string[] Small = ["tenureMonths", "contract", "monthlyCharges", "internetService", "paperlessBilling", "supportCalls", "satisfactionScore", "region"];

    // Eight of the generated features: numbers (one with missing values), booleans and categories.
    private static readonly DatasetSchema SmallSchema = CustomerGenerator.Schema with
    {
        Features = [.. CustomerGenerator.Schema.Features.Where(f => Small.Contains(f.Name))],
        Drop = [.. CustomerGenerator.Schema.Features.Where(f => !Small.Contains(f.Name)).Select(f => f.Name)],
    };

    private static readonly Lazy<Dataset> SmallData = new(() => DatasetLoader.Load(GeneratedCustomers.CsvFile(1500, seed: 21, drift: 0), SmallSchema));

    public static TheoryData<string> SmallModels => ["blend", "fasttree", "logistic", "isotonic"];

    [Theory]
    [MemberData(nameof(SmallModels))]
    public void ContributionsEqualBruteForceShapleyValuesOnSmallTrainedModels(string kind)
    {
        var model = TrainSmall(kind);
        var compiled = model.Compiled;
        Assert.True(compiled is not null, model.CompileFailure);
        Assert.True(model.CanExplain);
        var data = SmallData.Value;
        var matrix = model.Encoder.EncodeAll(data);
        var width = model.Encoder.Width;
        var n = model.Encoder.Features.Count;
        var phi = new double[n];
        var missingRows = 0;
        for (var r = 0; r < 40; r++)
        {
            var x = matrix.AsSpan(r * width, width).ToArray();
            missingRows += x.Any(float.IsNaN) ? 1 : 0;
            Assert.True(model.Explain(x, phi));
            var expected = BruteForce(compiled, model, x);
            for (var f = 0; f < n; f++)
            {
                Assert.True(Math.Abs(expected[f] - phi[f]) <= 1e-9, $"{kind}, row {r}, {model.Encoder.Features[f].Name}: {phi[f]:R} against {expected[f]:R}");
            }
            // The empty coalition is the base value and the full one the row's log-odds.
            Assert.Equal(Game(compiled, model, x, 0), model.BaseValue!.Value, 1e-9);
            Assert.Equal(LogOdds(model, compiled.RawScore(x)), model.BaseValue!.Value + phi.Sum(), 1e-9);
        }
        Assert.True(missingRows > 0, "the rows explained should include missing values");
        Assert.Equal(kind == "isotonic" ? ContributionUnits.ModelLogOdds : ContributionUnits.LogOdds, model.ContributionUnit);
    }

    [Fact]
    public void TheTabulatedWalkAndAlgorithm2AgreeTreeByTree()
    {
        var model = TrainSmall("fasttree");
        var shap = model.Compiled!.Shap!;
        var trees = model.Compiled.Trees!;
        var matrix = model.Encoder.EncodeAll(SmallData.Value);
        var width = model.Encoder.Width;
        var n = model.Encoder.Features.Count;
        for (var r = 0; r < 25; r++)
        {
            var x = matrix.AsSpan(r * width, width);
            var fast = new double[n];
            var slow = new double[n];
            shap.Add(x, fast);
            for (var t = 0; t < trees.Count; t++)
            {
                shap.Algorithm2(t, x, slow);
            }
            for (var f = 0; f < n; f++)
            {
                Assert.Equal(slow[f], fast[f], 1e-9);
            }
            Assert.Equal(trees.Sum(x) - shap.Expected, fast.Sum(), 1e-9);
        }
    }

    [Fact]
    public void AFeatureTheModelDoesNotUseGetsNothing()
    {
        // Dummy: a column with one value everywhere can never be split on, so the trees give it exactly zero.
        var path = GeneratedCustomers.CsvFile(1500, seed: 31, drift: 0);
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, [lines[0] + ",constant", .. lines.Skip(1).Select(l => l + ",7")]);
        var schema = SmallSchema with { Features = [.. SmallSchema.Features, new FeatureSpec("constant", FeatureKind.Numeric)] };
        var data = DatasetLoader.Load(path, schema);
        var model = ChurnTrainer.Train(data, new TrainingOptions { Seed = 3, BlendWeights = [1.0] }).Model;

        var scorer = new ChurnScorer(model);
        for (var r = 0; r < 50; r++)
        {
            var result = scorer.Score(data.Row(r), reasons: ChurnScorer.AllReasons);
            Assert.Equal(0.0, result.Reasons.Single(c => c.Feature == "constant").Contribution);
        }
    }

    [Fact]
    public void TwoCopiesOfAFeatureShareItsContributionEqually()
    {
        // Symmetry: the logistic model weighs identical columns identically, so their contributions are equal.
        var path = GeneratedCustomers.CsvFile(1500, seed: 41, drift: 0);
        var lines = File.ReadAllLines(path);
        var tenure = Array.IndexOf(lines[0].Split(','), "tenureMonths");
        File.WriteAllLines(path, [lines[0] + ",tenureCopy", .. lines.Skip(1).Select(l => l + "," + l.Split(',')[tenure])]);
        var schema = SmallSchema with { Features = [.. SmallSchema.Features, new FeatureSpec("tenureCopy", FeatureKind.Numeric)] };
        var data = DatasetLoader.Load(path, schema);
        var model = ChurnTrainer.Train(data, new TrainingOptions { Seed = 3, Trainer = TrainerKind.Logistic }).Model;

        var scorer = new ChurnScorer(model);
        for (var r = 0; r < 50; r++)
        {
            var reasons = scorer.Score(data.Row(r), reasons: ChurnScorer.AllReasons).Reasons;
            var a = reasons.Single(c => c.Feature == "tenureMonths").Contribution;
            var b = reasons.Single(c => c.Feature == "tenureCopy").Contribution;
            Assert.True(Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(a)), $"row {r}: {a:R} and {b:R}");
        }
    }

    [Fact]
    public void AMissingValueInTheLinearModelIsAtItsExpectationAndStillAddsUp()
    {
        var model = TrainSmall("logistic");
        var scorer = new ChurnScorer(model);
        var row = SmallData.Value.Row(0);
        row[SmallSchema.IndexOf("monthlyCharges")] = FeatureValue.Missing;

        var result = scorer.Score(row, reasons: ChurnScorer.AllReasons);

        // Mean imputation puts a missing number at the training mean, which is the expectation: no contribution.
        Assert.Equal(0.0, result.Reasons.Single(r => r.Feature == "monthlyCharges").Contribution, 1e-12);
        Assert.Equal("(missing)", result.Reasons.Single(r => r.Feature == "monthlyCharges").Value);
        Assert.Equal(Logit(result.Probability), result.BaseValue!.Value + result.Reasons.Sum(r => r.Contribution), 1e-9);
    }

    [Fact]
    public void TheCardHoldsMeanAbsoluteShapBesidePermutationImportance()
    {
        var card = TrainSmall("blend").Card;
        Assert.Equal(Small.Length, card.ShapImportance.Count);
        Assert.All(card.ShapImportance, s => Assert.True(s.MeanAbsContribution >= 0));
        Assert.Equal(card.ShapImportance.OrderByDescending(s => s.MeanAbsContribution).Select(s => s.Feature), card.ShapImportance.Select(s => s.Feature));
        Assert.Equal(ContributionUnits.LogOdds, card.ContributionUnit);
        Assert.NotNull(card.BaseValue);
        Assert.NotEmpty(card.Importance);
    }

    [Fact]
    public void TheCardsMeanAbsoluteShapIsTheAverageOverTheHeldOutRowsExplainedOneByOne()
    {
        var model = TrainSmall("blend");
        var data = SmallData.Value;
        var (_, test) = DataSplits.StratifiedSplit(data.RequireLabels(), new TrainingOptions().TestFraction, 7);
        var matrix = model.Encoder.EncodeAll(data.Select(test));
        var width = model.Encoder.Width;
        var sums = new double[model.Encoder.Features.Count];
        var phi = new double[sums.Length];
        var explained = 0;
        for (var r = 0; r < test.Length; r++)
        {
            if (model.Explain(matrix.AsSpan(r * width, width), phi))
            {
                explained++;
                for (var f = 0; f < sums.Length; f++)
                {
                    sums[f] += Math.Abs(phi[f]);
                }
            }
        }

        Assert.True(explained > test.Length / 2);
        foreach (var (feature, i) in model.Encoder.Features.Select((f, i) => (f, i)))
        {
            Assert.Equal(sums[i] / explained, model.Card.ShapImportance.Single(s => s.Feature == feature.Name).MeanAbsContribution, 1e-6);
        }
    }

    [Fact]
    public void OnATestSplitOverTheSampleSizeTheCardsMeanAbsoluteShapIsTheMeanOverItsSeededSample()
    {
        var data = DatasetLoader.Load(GeneratedCustomers.CsvFile(4400, seed: 23, drift: 0), SmallSchema);
        var options = new TrainingOptions { Seed = 4, TestFraction = 0.5 };
        var model = ChurnTrainer.Train(data, options).Model;
        var (_, test) = DataSplits.StratifiedSplit(data.RequireLabels(), options.TestFraction, options.Seed);
        var matrix = model.Encoder.EncodeAll(data.Select(test));
        var width = model.Encoder.Width;
        var sample = ChurnTrainer.ShapRows(test.Length, options.Seed);
        var sums = new double[model.Encoder.Features.Count];
        var phi = new double[sums.Length];
        var explained = 0;
        foreach (var r in sample)
        {
            if (model.Explain(matrix.AsSpan(r * width, width), phi))
            {
                explained++;
                for (var f = 0; f < sums.Length; f++)
                {
                    sums[f] += Math.Abs(phi[f]);
                }
            }
        }

        Assert.True(test.Length > ReferenceProfiler.SampleSize, $"{test.Length} test rows");
        Assert.Equal(ReferenceProfiler.SampleSize, sample.Length);
        Assert.Equal(sample.Order(), sample);
        Assert.Equal(sample.Length, sample.Distinct().Count());
        Assert.True(explained > sample.Length / 2);
        foreach (var (feature, i) in model.Encoder.Features.Select((f, i) => (f, i)))
        {
            Assert.Equal(sums[i] / explained, model.Card.ShapImportance.Single(s => s.Feature == feature.Name).MeanAbsContribution, 1e-6);
        }
    }

    [Fact]
    public void ASavedAndLoadedModelExplainsTheSame()
    {
        var model = TrainSmall("blend");
        var path = Path.Combine(Scratch.Root, $"churn-test-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            var loaded = ChurnModel.Load(path);
            var row = SmallData.Value.Row(5);
            var a = new ChurnScorer(model).Score(row, reasons: ChurnScorer.AllReasons);
            var b = new ChurnScorer(loaded).Score(row, reasons: ChurnScorer.AllReasons);
            Assert.Equal(a.BaseValue, b.BaseValue);
            Assert.Equal(a.Reasons, b.Reasons);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SharedDataFact]
    public void OnTheTelcoModelBasePlusContributionsIsTheLogOddsOfEveryRow()
    {
        var file = SharedData.PathOf("WA_Fn-UseC_-Telco-Customer-Churn.csv");
        var schema = SchemaInference.Infer(file, "Churn", "Yes").Schema;
        var data = DatasetLoader.Load(file, schema);
        var model = ChurnTrainer.Train(data, new TrainingOptions { ComputeImportance = false }).Model;
        var scorer = new ChurnScorer(model);

        Assert.Equal(7043, data.RowCount);
        var worst = 0.0;
        var withMissing = 0;
        for (var r = 0; r < data.RowCount; r++)
        {
            var row = data.Row(r);
            withMissing += row.Any(v => v.IsMissing) ? 1 : 0;
            var result = scorer.Score(row, reasons: ChurnScorer.AllReasons);
            Assert.Equal(schema.Features.Count, result.Reasons.Count);
            worst = Math.Max(worst, Math.Abs(Logit(result.Probability) - (result.BaseValue!.Value + result.Reasons.Sum(c => c.Contribution))));
        }
        Assert.True(worst <= 1e-6, $"largest gap between base + contributions and the log-odds: {worst:E2}");
        Assert.True(withMissing > 0, "Telco's blank total charges should be among the rows");
    }

    private static ChurnModel TrainSmall(string kind) => ChurnTrainer.Train(SmallData.Value, kind switch
    {
        "blend" => new TrainingOptions { Seed = 7, BlendWeights = [0.5] },
        "fasttree" => new TrainingOptions { Seed = 7, Trainer = TrainerKind.FastTree },
        "logistic" => new TrainingOptions { Seed = 7, Trainer = TrainerKind.Logistic },
        _ => new TrainingOptions { Seed = 7, BlendWeights = [0.75], Calibration = CalibrationModel.IsotonicMethod },
    }).Model;

    /// <summary>Shapley values by enumerating all 2^n coalitions of the n features.</summary>
    private static double[] BruteForce(CompiledModel compiled, ChurnModel model, float[] x)
    {
        var n = model.Encoder.Features.Count;
        var value = new double[1 << n];
        for (var s = 0; s < value.Length; s++)
        {
            value[s] = Game(compiled, model, x, s);
        }
        var factorial = new double[n + 1];
        factorial[0] = 1;
        for (var i = 1; i <= n; i++)
        {
            factorial[i] = factorial[i - 1] * i;
        }
        var phi = new double[n];
        for (var i = 0; i < n; i++)
        {
            for (var s = 0; s < value.Length; s++)
            {
                if ((s & (1 << i)) == 0)
                {
                    var size = System.Numerics.BitOperations.PopCount((uint)s);
                    phi[i] += factorial[size] * factorial[n - size - 1] / factorial[n] * (value[s | (1 << i)] - value[s]);
                }
            }
        }
        return phi;
    }

    /// <summary>
    /// The model's log-odds expected given the features in <paramref name="coalition"/>: each tree walked with the row
    /// at splits on those features and both branches weighted by cover elsewhere; the linear model with the other
    /// features at their expectation (their imputed training mean, which a missing value takes).
    /// </summary>
    private static double Game(CompiledModel compiled, ChurnModel model, float[] x, int coalition)
    {
        var raw = 0.0;
        if (compiled.Trees is { } trees)
        {
            var sum = trees.Bias;
            for (var t = 0; t < trees.Count; t++)
            {
                sum += trees.Weight[t] * Conditional(compiled, trees, t, 0, x, coalition);
            }
            raw += compiled.TreeWeight * trees.LogOdds(sum);
        }
        if (model.Linear is not null)
        {
            var hidden = (float[])x.Clone();
            for (var f = 0; f < model.Encoder.Features.Count; f++)
            {
                if ((coalition & (1 << f)) == 0)
                {
                    var feature = model.Encoder.Features[f];
                    hidden.AsSpan(feature.Offset, feature.Width).Fill(float.NaN);
                }
            }
            raw += (1 - compiled.TreeWeight) * compiled.LinearLogOdds(hidden);
        }
        var (scale, shift) = compiled.Output;
        return scale * raw + shift;
    }

    private static double Conditional(CompiledModel compiled, TreeEnsemble trees, int t, int node, float[] x, int coalition)
    {
        if (node < 0)
        {
            return trees.Leaf[trees.LeafStart[t] + ~node];
        }
        var i = trees.Start[t] + node;
        if ((coalition & (1 << trees.Column[i])) != 0)
        {
            return Conditional(compiled, trees, t, trees.GoesLeft(i, x[trees.Feature[i]]) ? trees.Left[i] : trees.Right[i], x, coalition);
        }
        return compiled.Shap!.Fraction(t, node, trees.Left[i]) * Conditional(compiled, trees, t, trees.Left[i], x, coalition)
            + compiled.Shap!.Fraction(t, node, trees.Right[i]) * Conditional(compiled, trees, t, trees.Right[i], x, coalition);
    }

    private static double LogOdds(ChurnModel model, double raw) => model.Calibration.Method == CalibrationModel.PlattMethod
        ? -(model.Calibration.A * raw + model.Calibration.B)
        : raw;

    private static double Logit(double p) => Math.Log(p / (1 - p));
}
