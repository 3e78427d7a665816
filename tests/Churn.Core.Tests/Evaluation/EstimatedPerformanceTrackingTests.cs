using Churn.Core.Tests.Training;
using Xunit.Abstractions;

namespace Churn.Core.Tests.Evaluation;

/// <summary>
/// Estimated performance of a trained model against the realised performance on fresh generated customers whose outcomes
/// come from the generator's known mechanism, window by window.
/// </summary>
public class EstimatedPerformanceTrackingTests(TrainedModelFixture fixture, ITestOutputHelper output) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void EstimatedMetricsTrackRealisedOnesOnGeneratedWindowsAndDivergeWhenTheMechanismChanges()
    {
        var model = fixture.Result.Model;
        var threshold = model.Card.Threshold;
        const int windows = 10;
        double f1Error = 0, precisionError = 0, recallError = 0, accuracyError = 0, shareError = 0, worstF1 = 0;
        for (var seed = 300; seed < 300 + windows; seed++)
        {
            var (estimate, realised, churnRate) = Window(seed, drift: 0);
            f1Error += Math.Abs(estimate.F1 - realised.F1) / windows;
            precisionError += Math.Abs(estimate.Precision - realised.Precision) / windows;
            recallError += Math.Abs(estimate.Recall - realised.Recall) / windows;
            accuracyError += Math.Abs(estimate.Accuracy - realised.Accuracy) / windows;
            shareError += Math.Abs(estimate.ExpectedPositiveShare - churnRate) / windows;
            worstF1 = Math.Max(worstF1, Math.Abs(estimate.F1 - realised.F1));
        }
        var (driftedEstimate, driftedRealised, driftedRate) = Window(400, drift: 1);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{windows} windows of 1000 generated customers, threshold {threshold:0.000}: mean |estimated - realised| F1 {f1Error:0.000} (worst {worstF1:0.000}), " +
            $"precision {precisionError:0.000}, recall {recallError:0.000}, accuracy {accuracyError:0.000}, churn rate {shareError:0.000}; " +
            $"drifted mechanism (d = 1): F1 estimated {driftedEstimate.F1:0.000} vs realised {driftedRealised.F1:0.000}, churn rate {driftedEstimate.ExpectedPositiveShare:0.000} vs {driftedRate:0.000}"));
        Assert.InRange(f1Error, 0, 0.05);
        Assert.InRange(accuracyError, 0, 0.03);
        Assert.InRange(shareError, 0, 0.03);
        // The estimate assumes the mechanism is unchanged; when it changes, the gap to the truth is what monitoring shows.
        Assert.True(Math.Abs(driftedEstimate.ExpectedPositiveShare - driftedRate) > shareError);
    }

    private (EstimatedPerformance Estimate, ConfusionMatrix Realised, double ChurnRate) Window(int seed, double drift)
    {
        var data = DatasetLoader.Load(GeneratedCustomers.CsvFile(1000, seed, drift), CustomerGenerator.Schema);
        var probabilities = fixture.Result.Model.Score(data);
        var labels = data.RequireLabels();
        var threshold = fixture.Result.Model.Card.Threshold;
        return (EstimatedPerformance.From(probabilities, threshold)!, BinaryMetrics.Confusion(probabilities, labels, threshold), labels.Count(l => l) / (double)labels.Length);
    }
}
