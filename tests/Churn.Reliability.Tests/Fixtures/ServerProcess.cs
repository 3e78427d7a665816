using System.Diagnostics;

namespace Churn.Reliability.Tests.Fixtures;

/// <summary>
/// The server as an operator runs it: <c>churn serve</c> in a child process on a free loopback port, over a data
/// directory of the test's own. Its stdout and stderr are captured whole, so tests can read the log (and scan it for
/// secrets); <see cref="Kill"/> is a SIGKILL, the fault the suites inject.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The instance id every server of these suites runs as (one at a time per data directory).</summary>
    public const string InstanceId = "reliability";

    private readonly CapturedOutput output = new();
    private readonly Process process;

    private ServerProcess(ProcessStartInfo start, string dataDir, int port)
    {
        process = output.Start(start);
        DataDir = dataDir;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public string DataDir { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int Pid => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>Everything the process has written to stdout and stderr so far.</summary>
    public string Output => output.Text;

    /// <summary>
    /// Starts <c>churn serve</c> on <paramref name="dataDir"/> and waits until it answers liveness (it listens only once
    /// its champion is loaded and warm). <paramref name="settings"/> are configuration keys such as <c>Churn:Api:rate_limit</c>.
    /// </summary>
    /// <param name="environment">Variables to set in the process's environment, or to remove from it (null), after the settings.</param>
    public static async Task<ServerProcess> StartAsync(
        string dataDir, IReadOnlyDictionary<string, string>? settings = null, int? port = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var chosenPort = port ?? FreePort();
        var start = ChurnCommand.StartInfo(["serve", "--urls", $"http://127.0.0.1:{chosenPort}", "--data-dir", dataDir], workingDirectory: dataDir);
        start.Environment["CHURN_ADMIN_KEY"] = TestSecrets.AdminKey;
        start.Environment["CHURN_ADMIN_PASSWORD"] = TestSecrets.DashboardPassword;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var defaults = new Dictionary<string, string>
        {
            ["Churn:SampleRows"] = "1000",
            ["Churn:WarmUpRows"] = "10",
            ["Churn:RequestWarmUpSeconds"] = "0",
            ["Churn:Api:rate_limit"] = "1000000",
            ["Logging:LogLevel:Default"] = "Information",
            // The rate-limit and store-outage suites count on a short poll so a restarted server catches up quickly.
            ["Churn:ChampionPollInterval"] = "00:00:02",
            // A stable instance id, as operators are told to give each replica: a server restarted on another port is
            // the same replica, so it replays its own prediction journal and frees locks its killed predecessor held.
            ["Churn:InstanceId"] = InstanceId,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            defaults[key] = value;
        }
        foreach (var (key, value) in defaults)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
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
        var server = new ServerProcess(start, dataDir, chosenPort);
        await server.WaitUntilLiveAsync();
        return server;
    }

    public HttpClient Client(string? key = TestSecrets.AdminKey, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(100),
        };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly what a crash or an OOM kill does.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }
        process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGTERM, as an orchestrator stops a container: the server drains and flushes before exiting.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
        {
            return;
        }
        await ChildProcesses.TerminateAsync(process.Id);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Resident memory (VmRSS) and open file descriptors of the child, read from /proc.</summary>
    public ProcessResources Resources() => ProcessResources.Of(process.Id);

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        process.Dispose();
    }

    public static int FreePort() => LoopbackPorts.Free();

    private async Task WaitUntilLiveAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"churn serve exited with {process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                if ((await http.GetAsync("/health/live")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet: the champion is still loading or training.
            }
            await Task.Delay(100);
        }
        Kill();
        throw new TimeoutException($"churn serve did not become ready within 4 minutes:\n{Output}");
    }
}
