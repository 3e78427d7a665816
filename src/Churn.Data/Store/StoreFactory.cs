using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Churn.Data.Store;

/// <summary>Creates store contexts for the configured provider and brings the schema up to date.</summary>
public sealed class StoreFactory : IDbContextFactory<ChurnDbContext>
{
    private readonly string connectionString;
    private readonly ILoggerFactory? loggerFactory;

    public StoreFactory(StoreOptions options, string dataDir, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        DataDir = Path.GetFullPath(dataDir);
        this.loggerFactory = loggerFactory;
        connectionString = options.ResolveConnectionString(DataDir);
        if (options.IsSqlite)
        {
            // Writers on SQLite queue behind each other; a generous busy timeout turns contention into waiting, not errors.
            connectionString = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 60 }.ToString();
        }
    }

    public StoreOptions Options { get; }

    public string DataDir { get; }

    public bool IsSqlite => Options.IsSqlite;

    /// <summary>The resolved connection string (for SQLite it names the database file).</summary>
    public string ConnectionString => connectionString;

    public ChurnDbContext CreateDbContext() => Options.IsSqlite ? CreateSqlite() : CreatePostgres();

    // One method per provider, kept apart: compiling a method loads the assemblies its code names, so a server on one
    // store never loads the other's provider (about 1 MB resident for PostgreSQL's).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private SqliteChurnDbContext CreateSqlite()
    {
        var builder = new DbContextOptionsBuilder<SqliteChurnDbContext>().UseSqlite(connectionString);
        Configure(builder);
        return new SqliteChurnDbContext(builder.Options);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PostgresChurnDbContext CreatePostgres()
    {
        var builder = new DbContextOptionsBuilder<PostgresChurnDbContext>().UseNpgsql(connectionString);
        Configure(builder);
        return new PostgresChurnDbContext(builder.Options);
    }

    public Task<ChurnDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(CreateDbContext());

    /// <summary>Creates the data directory and applies pending migrations; safe to call from several processes at once.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(DataDir);
        await using var db = CreateDbContext();
        if (!Options.IsSqlite)
        {
            // Replicas starting together were seen to race EF's own migration lock on PostgreSQL (both creating the same
            // table), so the whole migration runs under a session advisory lock: one replica migrates, the others wait
            // and then find nothing pending.
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock(7264100515)", cancellationToken);
            try
            {
                await db.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(7264100515)", CancellationToken.None);
                await db.Database.CloseConnectionAsync();
            }
            return;
        }
        await db.Database.MigrateAsync(cancellationToken);
        if (Options.IsSqlite)
        {
            // WAL lets readers (the server, `churn models list`) run while a registration writes.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>The SQLite database file, or null on PostgreSQL.</summary>
    public string? SqliteFile => Options.IsSqlite ? new SqliteConnectionStringBuilder(connectionString).DataSource : null;

    private void Configure(DbContextOptionsBuilder builder)
    {
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }
    }
}
