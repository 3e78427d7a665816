using System.Diagnostics;

namespace Churn.Scale.Tests.Fixtures;

/// <summary>One server process (<c>dotnet Churn.Server.dll --urls ...</c>) of the deployment, with its output kept for diagnostics.</summary>
internal sealed class Replica(string instanceId, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    private readonly CapturedOutput output = new();
    private Process? process;

    public string InstanceId { get; } = instanceId;

    public int Port { get; } = Engines.FreePort();

    public string Url => $"http://127.0.0.1:{Port}";

    public int? ExitCode => process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>The running process's id (for /proc readings).</summary>
    public int Pid => process?.Id ?? throw new InvalidOperationException($"{InstanceId} was never started.");

    /// <summary>Waits up to <paramref name="within"/> for the process to exit by itself (a start-up refusal); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        var running = process ?? throw new InvalidOperationException($"{InstanceId} was never started.");
        using var timeout = new CancellationTokenSource(within);
        await running.WaitForExitAsync(timeout.Token);
        return running.ExitCode;
    }

    /// <summary>The process's console output so far (for failure messages and log assertions).</summary>
    public string Output => output.Text;

    public void Start()
    {
        process?.Dispose();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Churn.Server.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(Url);
        start.Environment.Remove("CHURN_DATA_DIR");
        start.Environment["Churn__InstanceId"] = InstanceId;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        output.AppendLine($"---- start {InstanceId} on {Url}");
        process = output.Start(start);
    }

    /// <summary>Waits until the replica answers readiness (its champion is loaded); fails with its output when it exits or takes too long.</summary>
    public async Task WaitReadyAsync(TimeSpan within)
    {
        using var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (ExitCode is { } code)
            {
                throw new InvalidOperationException($"{InstanceId} exited with {code} while starting:\n{Output}");
            }
            try
            {
                if ((await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"{InstanceId} was not ready within {within}:\n{Output}");
    }

    /// <summary>SIGKILL: the process gets no chance to flush anything.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, then waits for the process to exit by itself; returns its exit code.</summary>
    public async Task<int> StopGracefullyAsync(TimeSpan within)
    {
        var running = process ?? throw new InvalidOperationException($"{InstanceId} was never started.");
        await ChildProcesses.TerminateAsync(running.Id);
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await running.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{InstanceId} did not stop within {within} of SIGTERM:\n{Output}");
        }
        return running.ExitCode;
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
    }
}
