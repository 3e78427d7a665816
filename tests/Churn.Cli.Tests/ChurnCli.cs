using System.Diagnostics;

namespace Churn.Cli.Tests;

/// <summary>The outcome of one run of the real churn command.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built churn command line as a child process, exactly as a user would.</summary>
public static class ChurnCli
{
    private static string EntryPoint => Path.Combine(AppContext.BaseDirectory, "churn.dll");

    public static CliRun Run(string workDir, params string[] args) => Run(workDir, null, args);

    public static CliRun Run(string workDir, IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(EntryPoint);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"churn {string.Join(' ', args)} did not finish in 5 minutes.");
        }
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"churn-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
