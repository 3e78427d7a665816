using Churn.Core.Scoring;
using Churn.Core.Tests.Training;

namespace Churn.Core.Tests.Scoring;

/// <summary>The compiled evaluation of the blend against ML.NET's own engines, row by row.</summary>
public sealed class CompiledModelTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void DefaultBlendCompilesAndMatchesTheEnginesOnEveryRow()
    {
        foreach (var model in new[] { fixture.Result.Model, ChurnModel.Load(fixture.PackagePath) })
        {
            Assert.True(model.Compiled is not null, model.CompileFailure);
            AssertMatchesEngines(model, fixture.Data);
        }
    }

    [Fact]
    public void ShiftedAndUnseenValuesStillMatch()
    {
        // Drifted customers reach parts of the trees the training rows rarely did.
        var drifted = DatasetLoader.Load(fixture.DriftPath, CustomerGenerator.Schema);
        Assert.True(fixture.Result.Model.Compiled is not null, fixture.Result.Model.CompileFailure);
        AssertMatchesEngines(fixture.Result.Model, drifted);
    }

    [Fact]
    public void CompiledScorerGivesTheEnginesProbabilitiesAndOnlyItExplains()
    {
        var model = fixture.Result.Model;
        var compiled = new ChurnScorer(model);
        var engines = new ChurnScorer(model, useCompiled: false);
        Assert.True(compiled.IsCompiled);
        Assert.False(engines.IsCompiled);

        for (var row = 0; row < 300; row++)
        {
            var a = compiled.Score(fixture.Data.Row(row), reasons: 6);
            var b = engines.Score(fixture.Data.Row(row), reasons: 6);
            Assert.Equal(b.Probability, a.Probability, 1e-5);
            Assert.Equal(6, a.Reasons.Count);
            Assert.NotNull(a.BaseValue);
            // The engines have no tree covers to explain with: they score, and say nothing rather than guess.
            Assert.Empty(b.Reasons);
            Assert.Null(b.BaseValue);
        }
    }

    [Fact]
    public void RowsWithMissingValuesAreCompiledAndMatchTheEngines()
    {
        var model = fixture.Result.Model;
        var row = fixture.Data.Row(0);
        row[CustomerGenerator.Schema.IndexOf("monthlyCharges")] = FeatureValue.Missing;
        row[CustomerGenerator.Schema.IndexOf("contract")] = FeatureValue.Missing;
        var slots = new float[model.Encoder.Width];
        model.Encoder.Encode(row, slots);

        Assert.True(model.Compiled!.Accepts(slots));
        var compiled = new ChurnScorer(model).Score(row, reasons: 0).Probability;
        var viaEngines = model.Calibration.Apply(model.EngineRawScores(slots, 1)[0]);
        Assert.Equal(viaEngines, compiled, 1e-5);
    }

    [Theory]
    [InlineData(-1e308)]
    [InlineData(1e300)]
    public void RowsWithOutOfFloatRangeValuesAreScoredByTheEngines(double charges)
    {
        var model = fixture.Result.Model;
        var row = fixture.Data.Row(0);
        row[CustomerGenerator.Schema.IndexOf("monthlyCharges")] = FeatureValue.Of(charges);
        var slots = new float[model.Encoder.Width];
        model.Encoder.Encode(row, slots);

        Assert.False(model.Compiled!.Accepts(slots));
        var result = new ChurnScorer(model).Score(row);
        var viaEngines = model.Calibration.Apply(model.EngineRawScores(slots, 1)[0]);
        Assert.True(double.IsFinite(result.Probability));
        Assert.Equal(viaEngines, result.Probability, 1e-12);
        Assert.Empty(result.Reasons);
        Assert.Null(result.BaseValue);
    }

    [Fact]
    public void FastTreeBehindItsImputationCompilesAndMatchesTheEngines()
    {
        var fastTree = ChurnTrainer.Train(fixture.Data, new TrainingOptions { Seed = 5, Trainer = TrainerKind.FastTree }).Model;

        Assert.True(fastTree.Compiled is not null, fastTree.CompileFailure);
        Assert.True(fastTree.CanExplain);
        AssertMatchesEngines(fastTree, fixture.Data);
        var bulk = fastTree.Score(fixture.Data);
        var single = new ChurnScorer(fastTree).Score(fixture.Data.Row(3), reasons: 2).Probability;
        Assert.Equal(bulk[3], single, 1e-6);
    }

    private static void AssertMatchesEngines(ChurnModel model, Dataset data)
    {
        var width = model.Encoder.Width;
        var matrix = model.Encoder.EncodeAll(data);
        var engines = model.EngineRawScores(matrix, data.RowCount);
        var compared = 0;
        var worst = 0.0;
        for (var r = 0; r < data.RowCount; r++)
        {
            var slots = matrix.AsSpan(r * width, width);
            if (!model.Compiled!.Accepts(slots))
            {
                continue;
            }
            var expected = model.Calibration.Apply(engines[r]);
            var actual = model.Calibration.Apply(model.Compiled!.RawScore(slots));
            worst = Math.Max(worst, Math.Abs(expected - actual));
            compared++;
        }
        Assert.True(compared == data.RowCount, $"only {compared} of {data.RowCount} rows were compiled");
        Assert.True(worst <= CompiledModel.Tolerance, $"largest probability difference {worst:E2} over {compared} rows");
    }
}
