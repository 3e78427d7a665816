using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace Churn.Scale.Tests.Fixtures;

/// <summary>Starting and stopping the real engines the replicas share, from the system's binaries, on free loopback ports.</summary>
internal static class Engines
{
    public static int FreePort() => LoopbackPorts.Free();

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

/// <summary>The deployment's PostgreSQL (see <see cref="PostgresServer"/>) with its database "churn", and reads of what the replicas stored.</summary>
internal sealed class TestPostgres : IAsyncDisposable
{
    private readonly PostgresServer server = new();

    public int Port => server.Port;

    public string ConnectionString => server.ConnectionString("churn") + ";Pooling=true;Maximum Pool Size=40";

    public async Task StartAsync()
    {
        if (PostgresServer.BinDir is null)
        {
            Assert.Fail(PostgresServer.NotInstalled);
        }
        await server.StartAsync();
        await server.CreateDatabaseAsync("churn");
    }

    /// <inheritdoc cref="PostgresServer.StopAsync"/>
    public Task StopAsync() => server.StopAsync();

    /// <inheritdoc cref="PostgresServer.ResumeAsync"/>
    public Task ResumeAsync() => server.ResumeAsync();

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>The rows of one column of a query against the store, as text.</summary>
    public async Task<List<string>> ColumnAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? "");
        }
        return values;
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

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

/// <summary>A redis-server without persistence on a free loopback port, killed at the end.</summary>
internal sealed class TestRedis : IAsyncDisposable
{
    private Process? process;

    public int Port { get; } = Engines.FreePort();

    public string Configuration => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        var server = ChildProcesses.Require("redis-server", "run .ci/run or apt-get install redis-server");
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
        var nginx = ChildProcesses.Require("nginx", "run .ci/run or apt-get install nginx");
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
