using System.Diagnostics;

namespace Churn.Cli.Tests;

/// <summary>Runs the built <c>churn.dll</c> as a child process, the way a user or a script would.</summary>
internal static class ChurnProcess
{
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "churn.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CHURN_DATA_DIR");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return Process.Start(start)!;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A fresh directory under the test scratch folder, removed on dispose (SQLite pools cleared first).</summary>
internal sealed class TempDir() : TempDirectory("churn-cli")
{
    protected override void BeforeDelete() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}
