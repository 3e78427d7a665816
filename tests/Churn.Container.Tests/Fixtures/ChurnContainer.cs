namespace Churn.Container.Tests.Fixtures;

/// <summary>
/// One container of the product image on the host's network (<c>docker run --network host</c>), listening on a free
/// loopback port that its health check follows through <c>CHURN_HEALTH_URL</c>. Removed with its anonymous volumes on dispose.
/// </summary>
internal sealed class ChurnContainer : IAsyncDisposable
{
    private readonly DockerEngine docker;

    private ChurnContainer(DockerEngine docker, string name, int port)
    {
        this.docker = docker;
        Name = name;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>
    /// <c>docker run -d</c> of the image with <paramref name="data"/> (a named volume or a host folder) at /data, a small
    /// first model, the test admin key and the health check every 2 s (the image's own command). Each of
    /// <paramref name="files"/> (host path → path in the container) is mounted read-only, as compose mounts a secret.
    /// </summary>
    public static async Task<ChurnContainer> RunAsync(
        DockerEngine docker, string data, IReadOnlyDictionary<string, string>? environment = null, bool readOnly = false, int? port = null,
        IReadOnlyDictionary<string, string>? files = null)
    {
        var container = new ChurnContainer(docker, $"churn-test-{Guid.NewGuid():N}"[..23], port ?? Engines.FreePort());
        var variables = new Dictionary<string, string>(QuickServerEnvironment.Variables)
        {
            ["ASPNETCORE_URLS"] = container.Url,
            ["CHURN_HEALTH_URL"] = $"{container.Url}/health",
            ["CHURN_ADMIN_KEY"] = TestSecrets.AdminKey,
            ["CHURN_ADMIN_PASSWORD"] = TestSecrets.DashboardPassword,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }
        List<string> arguments = ["run", "-d", "--name", container.Name, "--label", "churn.test=1", "--network", "host",
            "--health-interval", "2s", "--stop-timeout", "45", "-v", $"{data}:/data{(readOnly ? ":ro" : "")}"];
        foreach (var (host, inContainer) in files ?? new Dictionary<string, string>())
        {
            arguments.AddRange(["-v", $"{host}:{inContainer}:ro"]);
        }
        foreach (var (key, value) in variables)
        {
            arguments.AddRange(["-e", $"{key}={value}"]);
        }
        arguments.Add(ImageFixture.Image);
        await docker.CheckAsync(arguments);
        return container;
    }

    /// <summary>
    /// <see cref="RunAsync"/>, then waits until the container is healthy: up to five minutes, as the first start on an
    /// empty store trains a champion. A container that does not get there is removed before the failure is thrown.
    /// </summary>
    public static async Task<ChurnContainer> RunHealthyAsync(
        DockerEngine docker, string data, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyDictionary<string, string>? files = null)
    {
        var container = await RunAsync(docker, data, environment, files: files);
        try
        {
            await container.WaitHealthyAsync(TimeSpan.FromMinutes(5));
            return container;
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for the image's health check to report healthy; fails with the container's output when it exits or takes too long.</summary>
    public async Task WaitHealthyAsync(TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            var state = (await docker.CheckAsync(["inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", Name])).Trim();
            if (state == "running healthy")
            {
                return;
            }
            if (state.StartsWith("exited", StringComparison.Ordinal) || DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"{Name} is '{state}', not healthy (waited up to {within}):\n{await LogsAsync()}");
            }
            await Task.Delay(1000);
        }
    }

    /// <summary>Waits for the container to stop by itself and returns its exit code.</summary>
    public async Task<int> WaitExitAsync(TimeSpan within) =>
        int.Parse((await docker.CheckAsync(["wait", Name], within)).Trim(), CultureInfo.InvariantCulture);

    public async Task<string> StateAsync(string format) => (await docker.CheckAsync(["inspect", "--format", format, Name])).Trim();

    /// <summary>The container's standard output and error so far.</summary>
    public async Task<string> LogsAsync()
    {
        var (_, output, error) = await docker.RunAsync(["logs", Name]);
        return output + error;
    }

    /// <summary><c>docker exec</c> as the image's user; returns the exit code and both outputs.</summary>
    public Task<(int ExitCode, string Output, string Error)> ExecAsync(params string[] command) =>
        docker.RunAsync(["exec", Name, .. command], TimeSpan.FromMinutes(3));

    /// <summary><c>docker stop</c>: SIGTERM, then up to 45 s (the compose file's grace period) before SIGKILL. Returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        await docker.CheckAsync(["stop", "-t", "45", Name], TimeSpan.FromSeconds(90));
        return int.Parse(await StateAsync("{{.State.ExitCode}}"), CultureInfo.InvariantCulture);
    }

    /// <summary><c>docker kill</c>: SIGKILL, nothing gets flushed.</summary>
    public Task KillAsync() => docker.CheckAsync(["kill", Name]);

    public Task StartAsync() => docker.CheckAsync(["start", Name]);

    /// <summary>Memory in use as <c>docker stats</c> reports it (cgroup usage less page cache).</summary>
    public Task<string> MemoryAsync() => docker.CheckAsync(["stats", "--no-stream", "--format", "{{.MemUsage}}", Name]);

    public Task CopyOutAsync(string path, string hostPath) => docker.CheckAsync(["cp", $"{Name}:{path}", hostPath]);

    public HttpClient Client(string? key = TestSecrets.AdminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync() => await docker.RunAsync(["rm", "-f", "-v", Name]);
}
