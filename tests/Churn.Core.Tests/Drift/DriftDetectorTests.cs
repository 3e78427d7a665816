using Churn.Core.Drift;
using Churn.Core.Tests.Training;

namespace Churn.Core.Tests.Drift;

public class DriftDetectorTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void FreshDataFromTheSameMechanismShowsNoDatasetDrift()
    {
        var path = GeneratedCustomers.CsvFile(800, seed: 99, drift: 0);
        var current = DatasetLoader.Load(path, CustomerGenerator.Schema);
        var model = fixture.Result.Model;

        var report = DriftDetector.Detect(model.Card, current, model.Score(current));

        Assert.False(report.DatasetDrift);
        Assert.True(report.DriftedShare < 0.25, $"drifted share {report.DriftedShare}");
        Assert.All(report.Features, f => Assert.True(f.Test is "ks" or "chi2", f.Test));
    }

    [Fact]
    public void TheReportListsEachProfiledFeatureOnceInTheDatasetsColumnOrder()
    {
        var current = DatasetLoader.Load(fixture.DriftPath, CustomerGenerator.Schema);
        var card = fixture.Result.Model.Card;

        var report = DriftDetector.Detect(card, current);

        var profiled = card.Reference.Select(p => p.Name).ToHashSet();
        Assert.Equal(current.Columns.Select(c => c.Spec.Name).Where(profiled.Contains), report.Features.Select(f => f.Feature));
        Assert.Equal(report.Features.Select(f => f.Feature), DriftDetector.Detect(card, current).Features.Select(f => f.Feature));
    }

    [Fact]
    public void DriftedDataIsDetectedWithTheLargeSampleDistances()
    {
        var current = DatasetLoader.Load(fixture.DriftPath, CustomerGenerator.Schema);
        var model = fixture.Result.Model;

        var report = DriftDetector.Detect(model.Card, current, model.Score(current));

        var charges = report.Features.Single(f => f.Feature == "monthlyCharges");
        var payment = report.Features.Single(f => f.Feature == "paymentMethod");
        Assert.Equal("wasserstein", charges.Test);
        Assert.True(charges.Drifted);
        Assert.Equal("jensen-shannon", payment.Test);
        Assert.True(payment.Drifted);
        Assert.True(report.Score!.Drifted);
        Assert.Contains("monthlyCharges", report.DriftedByImportance);
    }
}
