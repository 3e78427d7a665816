using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Churn.Data.Store;

/// <summary>The store on SQLite; owns the migrations under Migrations/Sqlite.</summary>
public sealed class SqliteChurnDbContext(DbContextOptions<SqliteChurnDbContext> options) : ChurnDbContext(options)
{
    public override string ProviderName => StoreOptions.Sqlite;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type and EF cannot order or compare DateTimeOffset stored as text; every time
        // here is UTC, so a binary (ticks) long sorts correctly and round-trips exactly.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The store on PostgreSQL; owns the migrations under Migrations/Postgres.</summary>
public sealed class PostgresChurnDbContext(DbContextOptions<PostgresChurnDbContext> options) : ChurnDbContext(options)
{
    public override string ProviderName => StoreOptions.Postgres;
}
