namespace Churn.Cli.Tests;

/// <summary>
/// The base of a command test class whose every test works in a folder of its own (data directories, input files, the
/// command's working directory): xunit makes an instance per test, so each test gets a fresh folder, removed after it
/// together with any SQLite store the command wrote there.
/// </summary>
public abstract class CommandFolderTests : IDisposable
{
    /// <summary>This test's folder.</summary>
    protected StoreDirectory Dir { get; } = new("churn-cli");

    public void Dispose()
    {
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
