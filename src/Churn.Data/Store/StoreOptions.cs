namespace Churn.Data.Store;

/// <summary>Which database holds the store. Bound from the "Store" configuration section.</summary>
public sealed class StoreOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>"sqlite" (default: one file under the data directory) or "postgres".</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>Optional for SQLite (default <c>Data Source=&lt;dataDir&gt;/churn.db</c>), required for PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    public bool IsSqlite => string.Equals(Provider, Sqlite, StringComparison.OrdinalIgnoreCase);

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Provider, "postgresql", StringComparison.OrdinalIgnoreCase);

    /// <summary>The connection string to use, with the SQLite default resolved against the data directory.</summary>
    public string ResolveConnectionString(string dataDir)
    {
        if (IsSqlite)
        {
            return string.IsNullOrWhiteSpace(ConnectionString)
                ? $"Data Source={Path.Combine(dataDir, "churn.db")}"
                : ConnectionString;
        }
        if (IsPostgres)
        {
            return string.IsNullOrWhiteSpace(ConnectionString)
                ? throw new StoreException("Store:ConnectionString is required when Store:Provider is postgres.")
                : ConnectionString;
        }
        throw new StoreException($"Store:Provider '{Provider}' is not supported; use sqlite or postgres.");
    }
}
