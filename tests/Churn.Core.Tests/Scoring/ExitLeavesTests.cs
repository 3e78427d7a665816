using Churn.Core.Scoring;
using Churn.Core.Tests.Training;

namespace Churn.Core.Tests.Scoring;

/// <summary>The trees' leaves found from sorted splits give the same sum as walking every tree, bit for bit.</summary>
public sealed class ExitLeavesTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void SortedSplitsFindTheLeavesTheWalkFindsWithMissingAndExtremeValues()
    {
        var lightGbm = fixture.Result.Model;
        var fastTree = ChurnTrainer.Train(fixture.Data, new TrainingOptions { Seed = 5, Trainer = TrainerKind.FastTree }).Model;
        foreach (var model in new[] { lightGbm, fastTree })
        {
            var trees = model.Compiled?.Trees;
            Assert.True(trees is not null, model.CompileFailure);
            Assert.NotNull(ExitLeaves.TryBuild(trees));
            var width = model.Encoder.Width;
            var matrix = model.Encoder.EncodeAll(fixture.Data);
            var random = new Random(17);
            for (var r = 0; r < fixture.Data.RowCount; r++)
            {
                var slots = matrix.AsSpan(r * width, width).ToArray();
                Assert.Equal(trees.WalkSum(slots), trees.Sum(slots));
                // The same row with some values missing, on a threshold, or far out of range.
                for (var s = 0; s < width; s++)
                {
                    slots[s] = random.Next(6) switch
                    {
                        0 => float.NaN,
                        1 => trees.Threshold[random.Next(trees.Threshold.Length)],
                        2 => random.Next(2) == 0 ? -1e30f : 1e30f,
                        _ => slots[s],
                    };
                }
                Assert.Equal(trees.WalkSum(slots), trees.Sum(slots));
            }
        }
    }
}
