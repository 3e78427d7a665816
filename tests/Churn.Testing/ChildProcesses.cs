using System.Diagnostics;

namespace Churn.Testing;

/// <summary>Runs a program to its end the way a script would, capturing what it printed.</summary>
public static class ChildProcesses
{
    /// <summary>How long the <c>RunAsync</c> methods wait unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> and returns its exit code and output.</summary>
    /// <exception cref="OperationCanceledException">The program ran longer than <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>).</exception>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return RunAsync(start, timeout);
    }

    /// <summary>Runs the program <paramref name="start"/> describes (its output redirected) and returns its exit code and output.</summary>
    /// <exception cref="OperationCanceledException">The program ran longer than <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>).</exception>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? DefaultTimeout);
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Sends SIGTERM to process <paramref name="pid"/>, the signal an orchestrator stops a server with, so it drains and
    /// exits by itself. A process that has already exited is not an error.
    /// </summary>
    public static Task TerminateAsync(int pid) => RunAsync("/bin/kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>Runs <paramref name="file"/> and requires it to succeed.</summary>
    /// <exception cref="InvalidOperationException">It exited non-zero; the message names the command and holds its output.</exception>
    public static async Task RunCheckedAsync(string file, params string[] args)
    {
        var (exitCode, stdout, stderr) = await RunAsync(file, args);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {exitCode}: {stderr}{stdout}");
        }
    }
}
