using System.Diagnostics;

namespace Churn.Cli.Tests;

/// <summary>Runs the built <c>churn.dll</c> as a child process, the way a user or a script would.</summary>
internal static class ChurnProcess
{
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        Process.Start(ChurnCommand.StartInfo(args, environment, workingDirectory))!;

    /// <summary>Runs the command to its end within a minute.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => ChurnCommand.RunAsync(args, TimeSpan.FromSeconds(60));
}
