namespace Churn.Reliability.Tests.Fixtures;

/// <summary>
/// The base of a test class whose every test works on its own copy of the trained template (see
/// <see cref="DataDirs.CloneTrainedAsync"/>): xunit makes an instance per test, so the copy is made before each test
/// and removed after it, whatever the test's servers did to it.
/// </summary>
public abstract class TrainedCopyTests : IAsyncLifetime
{
    private TrainedDataDir? copy;

    /// <summary>The full path of this test's copy, to start servers and open stores on.</summary>
    protected string DataDir => copy?.Path ?? throw new InvalidOperationException("The copy is made before the test starts.");

    public async Task InitializeAsync() => copy = await DataDirs.CloneTrainedAsync();

    public Task DisposeAsync()
    {
        copy?.Dispose();
        return Task.CompletedTask;
    }
}
