using System.Diagnostics;
using Xunit;

namespace Churn.Testing;

/// <summary>Runs a program to its end the way a script would, capturing what it printed.</summary>
public static class ChildProcesses
{
    /// <summary>How long the <c>RunAsync</c> methods wait unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Start information for <paramref name="file"/> with <paramref name="args"/>, stdout and stderr redirected, in
    /// <paramref name="workingDirectory"/> (default: the current one). Each <paramref name="environment"/> entry is set on
    /// top of the inherited environment, or removed from it when its value is null.
    /// </summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        return start;
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> and returns its exit code and output.</summary>
    /// <exception cref="TimeoutException">The program ran longer than <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>); it was killed.</exception>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null) =>
        RunAsync(StartInfo(file, args), timeout);

    /// <summary>
    /// Runs the program <paramref name="start"/> describes (its output redirected) and returns its exit code and output.
    /// When its standard input is redirected too, it is closed at once, so a program that reads it sees its end.
    /// </summary>
    /// <exception cref="TimeoutException">The program ran longer than <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>); it and its children were killed.</exception>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        if (start.RedirectStandardInput)
        {
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(start.FileName)} {string.Join(' ', start.ArgumentList)} did not finish within {limit}.");
        }
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

    /// <summary>
    /// The full path of the program <paramref name="command"/>, looked for on PATH, in /usr/sbin and /sbin (where Debian
    /// puts daemons) and in <paramref name="extraDirectories"/>. Fails the test, saying <paramref name="install"/>, when
    /// it is not installed.
    /// </summary>
    public static string Require(string command, string install, params string[] extraDirectories)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", .. extraDirectories])
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Fail($"'{command}' is not installed, so this test cannot run: {install}.");
        }
        return found;
    }
}
