using Npgsql;

namespace Churn.Data.Tests.Fixtures;

/// <summary>
/// A throwaway PostgreSQL cluster for the test run, started from the system's binaries on a free loopback port with
/// trust authentication, and deleted afterwards. Each test asks for its own database.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    public const string NotInstalled = "PostgreSQL is not installed: run .ci/run or apt-get install postgresql";

    private string? root;
    private string? binDir;
    private string? startError;
    private int port;
    private int databases;

    public async Task InitializeAsync()
    {
        binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .FirstOrDefault()
            : null;
        if (binDir is null)
        {
            return;
        }
        try
        {
            root = Path.Combine(Path.GetTempPath(), $"churn-pg-{Guid.NewGuid():N}");
            Directory.CreateDirectory(root);
            port = LoopbackPorts.Free();
            var data = Path.Combine(root, "data");
            // PostgreSQL refuses to run as root, so the cluster belongs to the postgres user when the tests run as root.
            var asRoot = Environment.UserName == "root";
            if (asRoot)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", root]);
            }
            await RunPgAsync(asRoot, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
            await RunPgAsync(asRoot, "pg_ctl", [
                "-D", data, "-w", "-t", "60", "-l", Path.Combine(root, "server.log"),
                "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                "start"]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            startError = ex.Message;
        }
    }

    /// <summary>Store options for a new, empty database of this cluster.</summary>
    public async Task<StoreOptions> StoreOptionsAsync() =>
        new() { Provider = StoreOptions.Postgres, ConnectionString = await CreateDatabaseAsync() };

    /// <summary>A new, empty database; fails the calling test with a clear message when PostgreSQL is unavailable.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        if (binDir is null)
        {
            Assert.Fail(NotInstalled);
        }
        if (startError is not null)
        {
            Assert.Fail($"The test PostgreSQL cluster did not start: {startError}");
        }
        var name = $"churn_test_{Interlocked.Increment(ref databases)}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public async Task DisposeAsync()
    {
        if (root is null || binDir is null)
        {
            return;
        }
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunPgAsync(Environment.UserName == "root", "pg_ctl", ["-D", Path.Combine(root, "data"), "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped (it never started); the folder is removed either way.
        }
        Directory.Delete(root, recursive: true);
    }

    private string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=50;Include Error Detail=true";

    private Task RunPgAsync(bool asRoot, string tool, string[] args) => asRoot
        ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(binDir!, tool), .. args])
        : RunAsync(Path.Combine(binDir!, tool), args);

    private static Task RunAsync(string file, string[] args) => ChildProcesses.RunCheckedAsync(file, args);
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}
