using Churn.Core.Drift;
using Xunit.Abstractions;

namespace Churn.Core.Tests.Drift;

public class FalseAlarmTests(ITestOutputHelper output)
{
    [Fact]
    public void SameDistributionWindowsRarelyRaiseDatasetDrift()
    {
        var reference = DatasetLoader.Load(GeneratedCustomers.CsvFile(5000, seed: 1, drift: 0), CustomerGenerator.Schema, LabelRequirement.Optional);
        var profile = ReferenceProfiler.Profile(reference);
        const int windows = 40;
        var datasetAlarms = 0;
        var featureAlarms = 0;
        var features = 0;
        for (var seed = 100; seed < 100 + windows; seed++)
        {
            var window = DatasetLoader.Load(GeneratedCustomers.CsvFile(500, seed, drift: 0), CustomerGenerator.Schema, LabelRequirement.Optional);
            var report = DriftDetector.Detect(profile, window);
            datasetAlarms += report.DatasetDrift ? 1 : 0;
            featureAlarms += report.Features.Count(f => f.Drifted);
            features += report.Features.Count;
        }
        var featureRate = (double)featureAlarms / features;
        output.WriteLine($"{windows} same-distribution windows of 500 rows: dataset-drift alarms {datasetAlarms}, per-feature false-positive rate {featureRate:P1}");

        Assert.Equal(0, datasetAlarms);
        // Each feature test runs at the 5 % level, so about 5 % of features drift by chance.
        Assert.InRange(featureRate, 0, 0.10);
    }

    [Fact]
    public void ShiftedWindowsRaiseDatasetDrift()
    {
        var reference = DatasetLoader.Load(GeneratedCustomers.CsvFile(5000, seed: 1, drift: 0), CustomerGenerator.Schema, LabelRequirement.Optional);
        var profile = ReferenceProfiler.Profile(reference);
        var detected = 0;
        for (var seed = 200; seed < 210; seed++)
        {
            var window = DatasetLoader.Load(GeneratedCustomers.CsvFile(500, seed, drift: 1), CustomerGenerator.Schema, LabelRequirement.Optional);
            detected += DriftDetector.Detect(profile, window).Features.Any(f => f.Drifted && f.Feature == "monthlyCharges") ? 1 : 0;
        }

        Assert.Equal(10, detected);
    }
}
