using System.Diagnostics;
using System.Text;

namespace Churn.Testing;

/// <summary>
/// Everything a long-running child process (a server the suites start) writes to stdout and stderr, collected line by
/// line as it comes, so its pipes never fill and a test can read the log while it runs or after it was killed.
/// </summary>
public sealed class CapturedOutput
{
    private readonly StringBuilder text = new();
    private readonly Lock gate = new();

    /// <summary>The lines so far, stdout and stderr interleaved as they arrived.</summary>
    public string Text
    {
        get
        {
            lock (gate)
            {
                return text.ToString();
            }
        }
    }

    /// <summary>Starts the program <paramref name="start"/> describes (stdout and stderr redirected) and collects its output here.</summary>
    public Process Start(ProcessStartInfo start)
    {
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => AppendLine(e.Data);
        process.ErrorDataReceived += (_, e) => AppendLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Adds a line of the test's own (a marker between restarts, say); a null line (end of a stream) is ignored.</summary>
    public void AppendLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            text.AppendLine(line);
        }
    }
}
