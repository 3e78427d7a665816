using Churn.Core.Scoring;

namespace Churn.Core.Tests.Training;

public class ChurnTrainerTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void ModelRanksCustomersNearlyAsWellAsTheTrueMechanism()
    {
        var card = fixture.Result.Model.Card;
        // The generator's own probabilities give the best AUC any model could reach on these rows.
        var truth = new CustomerGenerator().RowsWithProbability(new GeneratorOptions { Rows = 3000, Seed = 11 }).Select(r => r.TrueProbability).ToArray();
        var labels = fixture.Data.Labels!;
        var bayes = BinaryMetrics.Auc(truth, labels);

        Assert.NotNull(card.Metrics.Auc);
        Assert.True(card.Metrics.Auc > 0.75, $"test AUC {card.Metrics.Auc}");
        Assert.True(card.Metrics.Auc > bayes - 0.06, $"test AUC {card.Metrics.Auc} vs Bayes {bayes}");
        Assert.Equal(600, card.TestRows);
        Assert.Equal(2400, card.TrainRows);
    }

    [Fact]
    public void CardRecordsFingerprintCalibrationThresholdAndReference()
    {
        var card = fixture.Result.Model.Card;

        Assert.Equal(Dataset.FingerprintFile(fixture.DataPath), card.DataFingerprint);
        Assert.Equal(CalibrationModel.PlattMethod, card.Calibration.Method);
        Assert.Equal("f1", card.ThresholdPolicy);
        Assert.InRange(card.Threshold, 0.05, 0.95);
        Assert.Equal(CustomerGenerator.Schema.Features.Count, card.Reference.Count);
        Assert.Equal(CustomerGenerator.Schema.Features.Count, card.Importance.Count);
        Assert.Contains(card.Importance.Take(5), i => i.Feature is "contract" or "tenureMonths" or "supportCalls" or "satisfactionScore");
        Assert.Equal(10, card.ScoreReference.BinShares.Count);
        Assert.True(card.Versions.ContainsKey("ml.net"));
    }

    [Fact]
    public void PackageRoundTripsToIdenticalProbabilities()
    {
        var loaded = ChurnModel.Load(fixture.PackagePath);

        var before = fixture.Result.Model.Score(fixture.Data);
        var after = loaded.Score(fixture.Data);

        Assert.Equal(before, after);
        Assert.Equal(fixture.Result.Model.Card.Threshold, loaded.Card.Threshold);
    }

    [Fact]
    public void SingleRowScorerAgreesWithBulkScoring()
    {
        var model = fixture.Result.Model;
        var scorer = new ChurnScorer(model);
        var bulk = model.Score(fixture.Data);

        for (var row = 0; row < 50; row++)
        {
            var result = scorer.Score(fixture.Data.Row(row), reasons: 3);
            Assert.Equal(bulk[row], result.Probability, 1e-5);
            Assert.Equal(result.Probability >= model.Card.Threshold, result.WillChurn);
            Assert.True(result.Reasons.Count <= 3);
        }
    }

    [Fact]
    public void ScorerIsSafeUnderParallelUse()
    {
        var scorer = new ChurnScorer(fixture.Result.Model);
        var expected = Enumerable.Range(0, 200).Select(r => scorer.Score(fixture.Data.Row(r), 0).Probability).ToArray();
        var actual = new double[200];

        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var row = i % 200;
            var p = scorer.Score(fixture.Data.Row(row), reasons: 2).Probability;
            actual[row] = p;
            Assert.Equal(expected[row], p);
        });

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ReasonsPointTheWayTheValueMovesTheRisk()
    {
        var scorer = new ChurnScorer(fixture.Result.Model);
        var schema = CustomerGenerator.Schema;
        var risky = fixture.Data.Row(0);
        risky[schema.IndexOf("contract")] = FeatureValue.Of("Month-to-month");
        risky[schema.IndexOf("supportCalls")] = FeatureValue.Of(9);
        risky[schema.IndexOf("satisfactionScore")] = FeatureValue.Of(1);
        risky[schema.IndexOf("tenureMonths")] = FeatureValue.Of(1);

        var result = scorer.Score(risky, reasons: 20);

        var calls = Assert.Single(result.Reasons, r => r.Feature == "supportCalls");
        Assert.True(calls.Contribution > 0, $"9 support calls should raise churn risk, got {calls.Contribution}");
        Assert.Equal("9", calls.Value);
        Assert.Equal("high", result.RiskTier);
    }

    [Fact]
    public void UnseenCategoryIsScoredAndFlagged()
    {
        var scorer = new ChurnScorer(fixture.Result.Model);
        var row = fixture.Data.Row(1);
        row[CustomerGenerator.Schema.IndexOf("paymentMethod")] = FeatureValue.Of("Digital wallet");

        var result = scorer.Score(row);

        Assert.Equal(["paymentMethod"], result.UnseenCategories);
        Assert.InRange(result.Probability, 0, 1);
    }

    [Fact]
    public void ValueOfTheWrongKindNamesTheFeature()
    {
        var scorer = new ChurnScorer(fixture.Result.Model);
        var row = fixture.Data.Row(1);
        row[CustomerGenerator.Schema.IndexOf("partner")] = FeatureValue.Of("perhaps");

        var ex = Assert.Throws<FeatureValueException>(() => scorer.Score(row));

        Assert.Equal("partner", ex.Feature);
    }

    [Fact]
    public void TruncatedPackageIsRefusedWithAClearMessage()
    {
        var bytes = File.ReadAllBytes(fixture.PackagePath);
        var broken = Path.Combine(Scratch.Root, $"churn-broken-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(broken, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<ModelPackageException>(() => ChurnModel.Load(broken));

        Assert.Contains(broken, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DriftedDataScoresWorseThanReferenceData()
    {
        var model = fixture.Result.Model;
        var drifted = DatasetLoader.Load(fixture.DriftPath, CustomerGenerator.Schema);

        var auc = BinaryMetrics.Auc(model.Score(drifted), drifted.Labels!);

        Assert.True(auc < model.Card.Metrics.Auc, $"drifted AUC {auc} vs reference {model.Card.Metrics.Auc}");
    }

    [Fact]
    public void FileScorerWritesOneRowPerInputAndNamesBadCells()
    {
        var lines = File.ReadAllLines(fixture.DataPath).Take(101).ToList();
        var header = lines[0].Split(',');
        var tenure = Array.IndexOf(header, "tenureMonths");
        var cells = lines[5].Split(',');
        cells[tenure] = "soon";
        lines[5] = string.Join(',', cells);
        var input = TestFiles.Temp(string.Join('\n', lines));
        using var reader = CsvReader.Open(input);
        using var output = new StringWriter();

        var summary = FileScorer.Score(fixture.Result.Model, reader, output, chunkRows: 16);

        var written = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(101, written.Length);
        Assert.Equal((100L, 99L, 1L), (summary.Rows, summary.Scored, summary.RowErrors));
        Assert.Contains($"line 6, column {tenure + 1} ('tenureMonths')", written[5], StringComparison.Ordinal);
    }
}

public class TrainerVariantsTests
{
    private static readonly string Path1500 = GeneratedCustomers.CsvFile(1500, seed: 21, drift: 0);

    [Theory]
    [InlineData(TrainerKind.Logistic)]
    [InlineData(TrainerKind.FastTree)]
    public void OtherTrainersProduceUsefulModels(TrainerKind kind)
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);

        var result = ChurnTrainer.Train(data, new TrainingOptions { Trainer = kind, Seed = 3, ComputeImportance = false });

        Assert.True(result.Model.Card.Metrics.Auc > 0.7, $"{kind} AUC {result.Model.Card.Metrics.Auc}");
        Assert.Equal(kind == TrainerKind.Logistic ? "0" : "1", result.Model.Card.Parameters["treeWeight"]);
    }

    [Theory]
    // 1,200 training rows: up to the large-data bound, 4 inner folds and the settings search; above it, 2 and no search;
    // a fold count that is given is kept at any size.
    [InlineData(30_000, null, 4, true)]
    [InlineData(1_000, null, 2, false)]
    [InlineData(1_000, 3, 3, false)]
    public void TheInnerFoldsAndTheSearchFollowTheTrainingRows(int largeDataRows, int? innerFolds, int expectedFolds, bool searched)
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);

        var parameters = ChurnTrainer.Train(data, new TrainingOptions { Seed = 3, ComputeImportance = false, LargeDataRows = largeDataRows, InnerFolds = innerFolds }).Model.Card.Parameters;

        Assert.Equal(expectedFolds.ToString(CultureInfo.InvariantCulture), parameters["innerFolds"]);
        Assert.Equal(expectedFolds, parameters["earlyStoppedTrees"].Split(',').Length);
        Assert.Equal(searched, parameters.ContainsKey("search"));
    }

    [Fact]
    public void AnInnerFoldCountOutsideTwoToTwentyIsRefused()
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);

        var error = Assert.Throws<ArgumentException>(() => ChurnTrainer.Train(data, new TrainingOptions { InnerFolds = 1 }));

        Assert.Contains("inner folds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SameSeedGivesTheSameModel()
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);
        var options = new TrainingOptions { Seed = 9, ComputeImportance = false };

        var a = ChurnTrainer.Train(data, options).Model.Score(data);
        var b = ChurnTrainer.Train(data, options).Model.Score(data);

        Assert.Equal(a, b);
    }

    [Fact]
    public void BusinessValueChoosesTheThresholdByProfit()
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);
        var value = new BusinessValue(500, 20, 0.3);

        var card = ChurnTrainer.Train(data, new TrainingOptions { Seed = 9, ComputeImportance = false, Trainer = TrainerKind.Logistic, BusinessValue = value }).Model.Card;

        Assert.Equal("profit", card.ThresholdPolicy);
        Assert.NotEmpty(card.ProfitCurve);
        // Contacting costs 20 and a saved churner is worth 0.3 × 500 = 150, so anyone above ~13 % is worth a call.
        Assert.InRange(card.Threshold, 0.0, 0.35);
    }

    [Fact]
    public void CrossValidationReportsEveryFold()
    {
        var data = DatasetLoader.Load(Path1500, CustomerGenerator.Schema);

        var cv = ChurnTrainer.CrossValidate(data, new TrainingOptions { Trainer = TrainerKind.Logistic, Seed = 1 }, 3);

        Assert.Equal(3, cv.Folds);
        Assert.Equal(3, cv.Auc.Folds.Count);
        Assert.InRange(cv.Auc.Mean, 0.7, 1.0);
        Assert.True(cv.Auc.Sd >= 0);
    }

    [Fact]
    public void TooFewChurnersIsRefusedWithCounts()
    {
        var lines = File.ReadAllLines(Path1500).Where((l, i) => i == 0 || !l.EndsWith(",Yes", StringComparison.Ordinal)).ToList();
        var path = TestFiles.Temp(string.Join('\n', lines));
        var data = DatasetLoader.Load(path, CustomerGenerator.Schema);

        var ex = Assert.Throws<InvalidDataException>(() => ChurnTrainer.Train(data, new TrainingOptions()));

        Assert.Contains("has 0 and", ex.Message, StringComparison.Ordinal);
    }
}
