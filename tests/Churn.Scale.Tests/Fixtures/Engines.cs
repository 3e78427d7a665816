using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace Churn.Scale.Tests.Fixtures;

/// <summary>Starting and stopping the real engines the replicas share, from the system's binaries, on free loopback ports.</summary>
internal static class Engines
{
    public static int FreePort() => LoopbackPorts.Free();

    /// <summary>The full path of <paramref name="command"/>, or a failure naming the apt package that provides it.</summary>
    public static string Require(string command, string package, params string[] extraDirectories)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", .. extraDirectories])
            .Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            Assert.Fail($"{command} is not installed: run .ci/run or apt-get install {package}");
        }
        return path;
    }

    public static Task RunAsync(string file, params string[] args) => ChildProcesses.RunCheckedAsync(file, args);

    /// <summary>Starts a long-running program whose output is read and dropped, so its pipes never fill and block it.</summary>
    public static Process StartDrained(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitForPortAsync(int port, string what)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"{what} did not listen on port {port} within 10 s.");
    }

    public static bool IsRoot => Environment.UserName == "root";
}

/// <summary>A throwaway PostgreSQL cluster with trust authentication, deleted afterwards.</summary>
internal sealed class TestPostgres : IAsyncDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"churn-scale-pg-{Guid.NewGuid():N}");
    private string binDir = "";

    public int Port { get; } = Engines.FreePort();

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=churn;Pooling=true;Maximum Pool Size=40";

    public async Task StartAsync()
    {
        binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault() ?? ""
            : "";
        if (binDir.Length == 0)
        {
            Assert.Fail("PostgreSQL is not installed: run .ci/run or apt-get install postgresql");
        }
        Directory.CreateDirectory(root);
        if (Engines.IsRoot)
        {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            await Engines.RunAsync("chown", "-R", "postgres:postgres", root);
        }
        var data = Path.Combine(root, "data");
        await RunPgAsync("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
        await ResumeAsync();
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres");
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand("CREATE DATABASE churn", connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Stops the cluster (an outage: open connections are cut, new ones refused); <see cref="ResumeAsync"/> brings it back
    /// with its data. A fast stop, not an immediate one: this throwaway cluster runs with synchronous_commit=off, so an
    /// immediate stop would drop commits it had already acknowledged, a loss no application could prevent.
    /// </summary>
    public async Task StopAsync()
    {
        await RunPgAsync("pg_ctl", "-D", Path.Combine(root, "data"), "-m", "fast", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the cluster (again) on the same port and data.</summary>
    public Task ResumeAsync() => RunPgAsync("pg_ctl", "-D", Path.Combine(root, "data"), "-w", "-t", "60", "-l", Path.Combine(root, "server.log"),
        "-o", $"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        "start");

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public async Task<HashSet<Guid>> LoggedIdsAsync(string customerPrefix)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Id" FROM prediction_log WHERE "CustomerId" LIKE @prefix""", connection);
        command.Parameters.AddWithValue("prefix", customerPrefix + "%");
        var ids = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (binDir.Length > 0 && Directory.Exists(Path.Combine(root, "data")))
        {
            try
            {
                await RunPgAsync("pg_ctl", "-D", Path.Combine(root, "data"), "-m", "immediate", "-w", "stop");
            }
            catch (InvalidOperationException)
            {
                // It never started; the folder goes either way.
            }
        }
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private Task RunPgAsync(string tool, params string[] args) => Engines.IsRoot
        ? Engines.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(binDir, tool), .. args])
        : Engines.RunAsync(Path.Combine(binDir, tool), args);
}

/// <summary>A redis-server without persistence on a free loopback port, killed at the end.</summary>
internal sealed class TestRedis : IAsyncDisposable
{
    private Process? process;

    public int Port { get; } = Engines.FreePort();

    public string Configuration => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        var server = Engines.Require("redis-server", "redis-server");
        process = Engines.StartDrained(server, "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no");
        await Engines.WaitForPortAsync(Port, "redis-server");
    }

    /// <summary>Kills the server (an outage); <see cref="StartAsync"/> brings it back on the same port, empty.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>nginx in the foreground (daemon off) with a generated configuration: one upstream of every replica.</summary>
internal sealed class TestNginx : IAsyncDisposable
{
    private readonly string root = Path.Combine(Scratch.Root, $"churn-scale-nginx-{Guid.NewGuid():N}");
    private Process? process;

    public int Port { get; } = Engines.FreePort();

    public string ErrorLog => Path.Combine(root, "error.log");

    public async Task StartAsync(IEnumerable<int> upstreamPorts)
    {
        var nginx = Engines.Require("nginx", "nginx");
        Directory.CreateDirectory(root);
        var servers = string.Join("\n", upstreamPorts.Select(p => $"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"));
        // Connection errors (a killed replica) move a request to the next replica; a request already sent is not
        // repeated (POST is not idempotent), so its client sees 502 and knows it was not answered.
        var conf = $$"""
            {{(Engines.IsRoot ? "user root;" : "")}}
            daemon off;
            worker_processes 1;
            pid {{root}}/nginx.pid;
            error_log {{ErrorLog}} warn;
            events { worker_connections 512; }
            http {
              access_log off;
              client_body_temp_path {{root}}/body;
              proxy_temp_path {{root}}/proxy;
              fastcgi_temp_path {{root}}/fastcgi;
              uwsgi_temp_path {{root}}/uwsgi;
              scgi_temp_path {{root}}/scgi;
              upstream churn {
            {{servers}}
                keepalive 16;
              }
              server {
                listen 127.0.0.1:{{Port}};
                location / {
                  proxy_pass http://churn;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $host;
                  proxy_set_header X-Forwarded-For $remote_addr;
                  proxy_next_upstream error timeout;
                  proxy_connect_timeout 2s;
                  proxy_read_timeout 60s;
                }
              }
            }
            """;
        var path = Path.Combine(root, "nginx.conf");
        await File.WriteAllTextAsync(path, conf);
        process = Engines.StartDrained(nginx, "-e", ErrorLog, "-p", root, "-c", path);
        try
        {
            await Engines.WaitForPortAsync(Port, "nginx");
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message} {(File.Exists(ErrorLog) ? await File.ReadAllTextAsync(ErrorLog) : "")}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            // SIGTERM-like fast shutdown of master and workers: the master is our child, the workers die with it.
            await Engines.RunAsync("/bin/kill", "-TERM", process.Id.ToString(CultureInfo.InvariantCulture));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process?.Dispose();
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
