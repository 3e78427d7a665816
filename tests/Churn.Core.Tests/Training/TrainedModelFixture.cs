namespace Churn.Core.Tests.Training;

/// <summary>One small seeded model trained on generated customers, shared by the tests that read it.</summary>
public sealed class TrainedModelFixture
{
    public TrainedModelFixture()
    {
        DataPath = GeneratedCustomers.CsvFile(3000, seed: 11, drift: 0);
        DriftPath = GeneratedCustomers.CsvFile(1500, seed: 12, drift: 1);
        Data = DatasetLoader.Load(DataPath, CustomerGenerator.Schema);
        Result = ChurnTrainer.Train(Data, new TrainingOptions { Seed = 5 });
        PackagePath = Path.Combine(Scratch.Root, $"churn-test-{Guid.NewGuid():N}", "model.zip");
        Result.Model.Save(PackagePath);
    }

    public string DataPath { get; }
    public string DriftPath { get; }
    public Dataset Data { get; }
    public TrainingResult Result { get; }
    public string PackagePath { get; }
}
