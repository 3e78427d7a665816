namespace Churn.Cli.Tests;

/// <summary>The outcome of one run of the real churn command.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built churn command in a working directory and waits for it, as a user at a shell would.</summary>
public static class ChurnCli
{
    public static CliRun Run(string workDir, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["CHURN_DATA_DIR"] = Path.Combine(workDir, "churn-data") };
        using var process = ChurnProcess.Start(args, environment, workDir);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"churn {string.Join(' ', args)} did not finish in 10 minutes.");
        }
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
