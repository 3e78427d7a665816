using Npgsql;

namespace Churn.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster started from the system's binaries (Debian's <c>/usr/lib/postgresql/&lt;version&gt;/bin</c>)
/// on a free loopback port, with trust authentication and without fsync; deleted when disposed. PostgreSQL refuses to
/// run as root, so when the tests run as root the cluster belongs to the postgres user.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>What a suite says when the binaries are missing.</summary>
    public const string NotInstalled = "PostgreSQL is not installed: run .ci/run or apt-get install postgresql";

    private static readonly bool AsRoot = Environment.UserName == "root";

    // Under /tmp rather than the scratch folder: the server's socket lives here, and socket paths are short.
    private readonly string root = Path.Combine(Path.GetTempPath(), $"churn-pg-{Guid.NewGuid():N}");

    /// <summary>The newest installed version's bin folder, or null when PostgreSQL is not installed.</summary>
    public static string? BinDir { get; } = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => d, StringComparer.Ordinal)
            .FirstOrDefault()
        : null;

    public int Port { get; } = LoopbackPorts.Free();

    private string DataDir => Path.Combine(root, "data");

    /// <summary>The connection string of <paramref name="database"/> as the postgres user; callers add their pool settings.</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>Creates the cluster and starts it.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed, or one of its tools failed (the message holds its output).</exception>
    public async Task StartAsync()
    {
        if (BinDir is null)
        {
            throw new InvalidOperationException(NotInstalled);
        }
        Directory.CreateDirectory(root);
        if (AsRoot)
        {
            await ChildProcesses.RunCheckedAsync("chown", "-R", "postgres:postgres", root);
        }
        await RunToolAsync("initdb", "-D", DataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
        await ResumeAsync();
    }

    /// <summary>Creates the empty database <paramref name="name"/> (a plain identifier).</summary>
    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Stops the cluster (an outage: open connections are cut, new ones refused); <see cref="ResumeAsync"/> brings it back
    /// with its data. A fast stop, not an immediate one: the cluster runs with synchronous_commit=off, so an immediate
    /// stop would drop commits it had already acknowledged, a loss no application could prevent.
    /// </summary>
    public async Task StopAsync()
    {
        await RunToolAsync("pg_ctl", "-D", DataDir, "-m", "fast", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the cluster (again) on the same port and data.</summary>
    public Task ResumeAsync() => RunToolAsync("pg_ctl", "-D", DataDir, "-w", "-t", "60", "-l", Path.Combine(root, "server.log"),
        "-o", $"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        "start");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (BinDir is not null && Directory.Exists(DataDir))
        {
            try
            {
                await RunToolAsync("pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "stop");
            }
            catch (InvalidOperationException)
            {
                // It never started, or is stopped already; the folder goes either way.
            }
        }
        Scratch.Delete(root);
    }

    private static Task RunToolAsync(string tool, params string[] args) => AsRoot
        ? ChildProcesses.RunCheckedAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDir!, tool), .. args])
        : ChildProcesses.RunCheckedAsync(Path.Combine(BinDir!, tool), args);
}
