using Microsoft.EntityFrameworkCore.Design;

namespace Churn.Data.Store;

// `dotnet ef migrations add X --context SqliteChurnDbContext -o Migrations/Sqlite` (and the Postgres twin) use these;
// no database is opened to generate a migration, so the connection strings below are never connected to.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteChurnDbContext>
{
    public SqliteChurnDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteChurnDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresChurnDbContext>
{
    public PostgresChurnDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresChurnDbContext>().UseNpgsql("Host=localhost;Database=churn_design").Options);
}
