using System.Diagnostics;
using System.Security.Cryptography;

namespace Churn.Container.Tests.Fixtures;

/// <summary>
/// A Docker engine (Debian's <c>docker.io</c>) started by the tests in a folder of their own: its own data root, exec
/// root, socket and pid file, no bridge and no iptables rules (every container uses the host's network, so traffic stays
/// on loopback). The data root is kept between runs so that the base images and build layers are reused; the daemon is
/// stopped at the end.
/// </summary>
internal sealed class DockerEngine : IAsyncDisposable
{
    private Process? daemon;

    private DockerEngine(string root, string client)
    {
        Root = root;
        Client = client;
    }

    /// <summary>The engine's folder: <c>/tmp/churn-docker-</c> and a hash of the checkout, so two checkouts never share a daemon.</summary>
    public string Root { get; }

    /// <summary>The docker client binary.</summary>
    public string Client { get; }

    public string Socket => Path.Combine(Root, "docker.sock");

    public string Host => $"unix://{Socket}";

    private string PidFile => Path.Combine(Root, "dockerd.pid");

    private string Log => Path.Combine(Root, "dockerd.log");

    /// <summary>
    /// Why the engine cannot be started here, or null when it can: the daemon needs root, <c>dockerd</c> and a client,
    /// and the local base images need <c>debootstrap</c>.
    /// </summary>
    public static string? Unavailable { get; } = FindUnavailable();

    /// <summary>The folder the engine of this checkout uses.</summary>
    public static string FolderFor(string repoRoot) =>
        Path.Combine("/tmp", "churn-docker-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repoRoot)))[..10]);

    /// <summary>Starts a daemon in <paramref name="root"/>, first stopping one a crashed earlier run left behind there.</summary>
    public static async Task<DockerEngine> StartAsync(string root)
    {
        var engine = new DockerEngine(root, FindClient());
        Directory.CreateDirectory(root);
        await engine.StopLeftoverAsync();
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        // exec: the shell becomes dockerd, so the pid held here is the daemon's.
        start.ArgumentList.Add($"exec {Which("dockerd")} --data-root {root}/data --exec-root {root}/exec -H {engine.Host} "
            + $"--pidfile {engine.PidFile} --bridge=none --iptables=false --ip6tables=false >>{engine.Log} 2>&1");
        engine.daemon = Process.Start(start)!;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (engine.daemon.HasExited)
            {
                throw new InvalidOperationException($"dockerd exited with {engine.daemon.ExitCode}:\n{engine.LogTail()}");
            }
            if (File.Exists(engine.Socket) && (await engine.RunAsync(["version", "--format", "{{.Server.Version}}"], TimeSpan.FromSeconds(20))).ExitCode == 0)
            {
                return engine;
            }
            if (DateTime.UtcNow > until)
            {
                await engine.DisposeAsync();
                throw new InvalidOperationException($"dockerd did not answer on {engine.Socket} within 90 s:\n{engine.LogTail()}");
            }
            await Task.Delay(500);
        }
    }

    /// <summary>Runs the docker client against this engine; never throws for a non-zero exit.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunAsync(IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        Run(Client, arguments, timeout ?? TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["DOCKER_HOST"] = Host, ["DOCKER_BUILDKIT"] = "0" });

    /// <summary>Runs the docker client and returns its standard output; a non-zero exit fails with both outputs.</summary>
    public async Task<string> CheckAsync(IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var (code, output, error) = await RunAsync(list, timeout);
        return code == 0 ? output : throw new InvalidOperationException($"docker {string.Join(' ', list)} exited with {code}:\n{error}\n{output}");
    }

    /// <summary>Runs any program to completion with extra environment variables; kills it after <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">It ran longer than <paramref name="timeout"/>.</exception>
    public static async Task<(int ExitCode, string Output, string Error)> Run(
        string file, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        await ChildProcesses.RunAsync(ChildProcesses.StartInfo(file, arguments, environment?.ToDictionary(e => e.Key, e => (string?)e.Value), workingDirectory), timeout);

    public string LogTail() => File.Exists(Log) ? string.Join('\n', File.ReadLines(Log).TakeLast(30)) : "(no dockerd log)";

    /// <summary>SIGTERM to the daemon (it stops its containers and containerd), SIGKILL after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (daemon is null)
        {
            return;
        }
        if (!daemon.HasExited)
        {
            await Run("/bin/kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await daemon.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
        daemon.Dispose();
        daemon = null;
    }

    /// <summary>A daemon from an earlier run of this checkout whose test host died before stopping it.</summary>
    private async Task StopLeftoverAsync()
    {
        if (!File.Exists(PidFile) || !int.TryParse((await File.ReadAllTextAsync(PidFile)).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        Process leftover;
        try
        {
            leftover = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return;
        }
        using (leftover)
        {
            // Only a dockerd started on this folder's socket is ours to stop.
            var commandLine = File.Exists($"/proc/{pid}/cmdline") ? (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Replace('\0', ' ') : "";
            if (!commandLine.Contains("dockerd", StringComparison.Ordinal) || !commandLine.Contains(Socket, StringComparison.Ordinal))
            {
                return;
            }
            await Run("/bin/kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await leftover.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                leftover.Kill();
            }
        }
    }

    private static string? FindUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the container tests start a Docker engine, which needs Linux.";
        }
        if (Environment.UserName != "root")
        {
            return "the container tests start their own Docker engine and make base images with debootstrap, which needs root.";
        }
        foreach (var (command, package) in new[] { ("dockerd", "docker.io"), ("debootstrap", "debootstrap") })
        {
            if (TryWhich(command) is null)
            {
                return $"{command} is not installed (apt-get install {package}, or run .ci/run).";
            }
        }
        return TryFindClient() is null ? "no docker client is installed (apt-get install docker.io)." : null;
    }

    /// <summary>Debian's client first: it matches the daemon it came with.</summary>
    private static string? TryFindClient() => File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : TryWhich("docker");

    private static string FindClient() => TryFindClient() ?? throw new InvalidOperationException("No docker client is installed.");

    private static string Which(string command) => TryWhich(command) ?? throw new InvalidOperationException($"{command} is not installed.");

    private static string? TryWhich(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"])
            .Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);
}
