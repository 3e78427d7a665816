using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Churn.Server.Tests.Deployment;

/// <summary>
/// deploy/nginx.conf run by the real nginx in front of a real server on loopback. Compose's service names do not resolve
/// outside compose, so the test runs a copy in which churn-1 is this server and churn-2 a loopback port nobody listens
/// on, standing for a replica that is down; the listen port and pid file move to free places too.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class NginxTests(ServerFixture server)
{
    [Fact]
    public async Task NginxWithTheComposeConfigurationProxiesToAReadyReplicaPastOneThatIsDown()
    {
        var nginx = ChildProcesses.Require("nginx", "apt-get install nginx");
        using var dataDir = server.CloneDataDir();
        using var scratch = new TempDirectory("churn-nginx");
        var work = scratch.Path;
        var (replica, down, front) = (LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free());
        using var stop = new CancellationTokenSource();
        var run = ChurnServer.RunAsync(
            [$"--urls=http://127.0.0.1:{replica}", $"--Churn:DataDir={dataDir.Path}", "--Churn:WarmUpRows=20", "--Churn:RequestWarmUpSeconds=0", "--Logging:LogLevel:Default=Warning"],
            TextWriter.Null, stop.Token);
        Process? proxy = null;
        try
        {
            var config = Path.Combine(work, "nginx.conf");
            await File.WriteAllTextAsync(config, LoopbackCopy(await File.ReadAllTextAsync(Path.Combine(Tools.DeployDir, "nginx.conf")), replica, down, front, work));
            string[] paths = ["-c", config, "-p", work + "/", "-e", Path.Combine(work, "error.log")];
            var (code, _, error) = await Tools.RunAsync(nginx, ["-t", .. paths]);
            Assert.True(code == 0, $"nginx -t refused the configuration: {error}");

            await WaitForAsync(replica, run);
            proxy = StartNginx(nginx, [.. paths, "-g", "daemon off;"]);
            await WaitForAsync(front, run);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{front}") };

            var health = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < 6; i++)
            {
                using var response = await http.GetAsync("/health");
                health.Add((response.StatusCode, await response.Content.ReadAsStringAsync()));
            }
            using var anonymousMetrics = await http.GetAsync("/metrics");
            using var metricsRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            metricsRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestSecrets.AdminKey);
            using var metrics = await http.SendAsync(metricsRequest);
            using var login = await http.GetAsync("/account/login");
            using var nginxHealth = await http.GetAsync("/nginx-health");

            Assert.All(health, h => Assert.Equal((HttpStatusCode.OK, "ready"), (h.Item1, (string?)JsonNode.Parse(h.Item2)!["status"])));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymousMetrics.StatusCode);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Contains("# TYPE ", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.Contains("blazor.web", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, nginxHealth.StatusCode);
        }
        finally
        {
            if (proxy is not null)
            {
                proxy.Kill(entireProcessTree: true);
                await proxy.WaitForExitAsync();
                proxy.Dispose();
            }
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task TheDockerfileHealthCheckPassesOnAReadyServerAndFailsWhereNoneListens()
    {
        ChildProcesses.Require("curl", "apt-get install curl");
        using var dataDir = server.CloneDataDir();
        var (port, down) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        using var stop = new CancellationTokenSource();
        var run = ChurnServer.RunAsync(
            [$"--urls=http://127.0.0.1:{port}", $"--Churn:DataDir={dataDir.Path}", "--Churn:WarmUpRows=20", "--Churn:RequestWarmUpSeconds=0", "--Logging:LogLevel:Default=Warning"],
            TextWriter.Null, stop.Token);
        try
        {
            await WaitForAsync(port, run);

            var (ready, _, readyError) = await Tools.RunAsync("/bin/sh", ["-c", DockerfileTests.HealthCheckCommand(port)]);
            var (none, _, _) = await Tools.RunAsync("/bin/sh", ["-c", DockerfileTests.HealthCheckCommand(down)]);

            Assert.True(ready == 0, $"The health check failed on a ready server: {readyError}");
            Assert.NotEqual(0, none);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    /// <summary>The committed configuration with compose's names and the container's paths swapped for loopback ones.</summary>
    private static string LoopbackCopy(string config, int replica, int down, int front, string work) =>
        Swap(Swap(Swap(Swap(config,
            "listen 80;", $"listen 127.0.0.1:{front};"),
            "server churn-1:8080 ", $"server 127.0.0.1:{replica} "),
            "server churn-2:8080 ", $"server 127.0.0.1:{down} "),
            "pid /tmp/nginx.pid;", $"pid {Path.Combine(work, "nginx.pid")};");

    private static string Swap(string text, string from, string to)
    {
        Assert.True(text.Contains(from, StringComparison.Ordinal), $"deploy/nginx.conf no longer contains '{from}'; update this test's loopback copy.");
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    private static Process StartNginx(string nginx, string[] arguments)
    {
        var start = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start nginx.");
        // The access log goes to standard output: drain both streams so nginx never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task WaitForAsync(int port, Task server) => Polling.UntilReadyAsync(server, async () =>
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return true;
    }, $"A listener on port {port}");
}
