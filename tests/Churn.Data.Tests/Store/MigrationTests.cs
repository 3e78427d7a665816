using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Tests.Store;

public sealed class MigrationTests
{
    [Fact]
    public void TheSqliteMigrationsCoverEveryChangeToTheModel()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(),
            "The model has changes without a SQLite migration: run dotnet ef migrations add <Name> --project src/Churn.Data --context SqliteChurnDbContext -o Migrations/Sqlite");
    }

    [Fact]
    public void ThePostgresMigrationsCoverEveryChangeToTheModel()
    {
        using var db = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(),
            "The model has changes without a PostgreSQL migration: run dotnet ef migrations add <Name> --project src/Churn.Data --context PostgresChurnDbContext -o Migrations/Postgres");
    }

    [Fact]
    public void BothProvidersHaveTheSameMigrations()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        static IEnumerable<string> Names(DbContext db) => db.Database.GetMigrations().Select(m => m[(m.IndexOf('_', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(Names(sqlite), Names(postgres));
    }
}
