using System.Diagnostics;

namespace Churn.Testing;

/// <summary>
/// The built <c>churn</c> command (<c>churn.dll</c>, copied beside the test assembly by a project reference to Churn.Cli)
/// as a child process, the way a user, a script or an orchestrator starts it.
/// </summary>
public static class ChurnCommand
{
    /// <summary>The command's assembly beside the running tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "churn.dll");

    /// <summary>
    /// <c>dotnet churn.dll</c> with <paramref name="args"/>, stdout and stderr redirected. <c>CHURN_DATA_DIR</c> is
    /// removed from the inherited environment, so the command uses only the data directory the test names;
    /// <paramref name="environment"/> is added after that.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var settings = new Dictionary<string, string?> { ["CHURN_DATA_DIR"] = null };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }
        return ChildProcesses.StartInfo("dotnet", [Dll, .. args], settings, workingDirectory);
    }

    /// <summary>Runs the command with <paramref name="args"/> to its end and returns its exit code and output.</summary>
    /// <exception cref="TimeoutException">It ran longer than <paramref name="timeout"/> (default <see cref="ChildProcesses.DefaultTimeout"/>) and was killed.</exception>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan? timeout = null) =>
        ChildProcesses.RunAsync(StartInfo(args), timeout);
}
