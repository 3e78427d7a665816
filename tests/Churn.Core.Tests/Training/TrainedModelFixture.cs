namespace Churn.Core.Tests.Training;

/// <summary>One small seeded model trained on generated customers, shared by the tests that read it.</summary>
public sealed class TrainedModelFixture
{
    public TrainedModelFixture()
    {
        DataPath = WriteGenerated(3000, seed: 11, drift: 0);
        DriftPath = WriteGenerated(1500, seed: 12, drift: 1);
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

    public static string WriteGenerated(int rows, int seed, double drift)
    {
        var path = Path.Combine(Scratch.Root, $"churn-gen-{Guid.NewGuid():N}.csv");
        using var writer = new StreamWriter(path);
        new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = rows, Seed = seed, Drift = drift }, writer);
        return path;
    }
}
