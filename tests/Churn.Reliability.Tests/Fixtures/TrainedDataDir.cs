namespace Churn.Reliability.Tests.Fixtures;

/// <summary>A test's own copy of the trained template (see <see cref="DataDirs.CloneTrainedAsync"/>), removed on dispose.</summary>
public sealed class TrainedDataDir() : StoreDirectory("churn-reliability");
