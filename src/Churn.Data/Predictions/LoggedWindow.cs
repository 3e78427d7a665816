using System.Buffers.Text;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Churn.Core.Data;
using Churn.Core.Schema;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SQLitePCL;

namespace Churn.Data.Predictions;

/// <summary>
/// A model's logged predictions in a time window, newest first, and, when asked for, their inputs read back into a
/// dataset (row i of <see cref="Inputs"/> is <c>Rows[i]</c>). The monitoring check's one query of the prediction log.
/// </summary>
public sealed record LoggedWindow(IReadOnlyList<LoggedPrediction> Rows, Dataset? Inputs)
{
    /// <summary>Rows stepped between two looks at the cancellation token on SQLite.</summary>
    private const int RowsPerCancellationCheck = 4096;

    private static readonly ConditionalWeakTable<IModel, Func<long, DateTimeOffset>> TimeConversions = [];

    /// <summary>
    /// Reads the predictions of <paramref name="modelName"/> logged from <paramref name="start"/> to <paramref name="end"/>
    /// (both inclusive; null: no bound), the newest <paramref name="maxRows"/> at most (null: all). With a
    /// <paramref name="schema"/>, the inputs are parsed as the rows stream in (<see cref="LoggedInputs.Builder"/>), so
    /// no row's JSON text outlives its chunk; without one, the inputs are not read at all.
    /// EF Core builds the query on every store. On SQLite its statement is then stepped through SQLite's own API, so
    /// each row's inputs reach the parser as the UTF-8 bytes stored, with no string made of them and no entity
    /// materialised; on other stores EF Core reads the rows. (The store runs SQLite in WAL mode, where a reader waits for
    /// no writer, so the statement is stepped without the ADO.NET provider's retries on a locked file.)
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">A logged input is not a JSON object.</exception>
    /// <exception cref="SqliteException">SQLite refused the statement or failed while stepping it.</exception>
    public static async Task<LoggedWindow> ReadAsync(
        ChurnDbContext db, string modelName, DateTimeOffset? start, DateTimeOffset? end, int? maxRows, DatasetSchema? schema, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = db.PredictionLog.AsNoTracking().Where(p => p.ModelName == modelName);
        if (start is { } from)
        {
            query = query.Where(p => p.Time >= from);
        }
        if (end is { } to)
        {
            query = query.Where(p => p.Time <= to);
        }
        query = query.OrderByDescending(p => p.Time);
        if (maxRows is { } most)
        {
            query = query.Take(most);
        }
        var rows = new List<LoggedPrediction>();
        var inputs = schema is null ? null : new LoggedInputs.Builder(schema);
        if (db.ProviderName == StoreOptions.Sqlite)
        {
            await ReadSqliteAsync(db, query, rows, inputs, ct);
            return new LoggedWindow(rows, inputs?.Build());
        }
        if (inputs is null)
        {
            await foreach (var p in query.Select(p => new LoggedPrediction(p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time))
                .AsAsyncEnumerable().WithCancellation(ct))
            {
                rows.Add(p);
            }
            return new LoggedWindow(rows, null);
        }
        await foreach (var p in query.Select(p => new { p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time, p.InputsJson })
            .AsAsyncEnumerable().WithCancellation(ct))
        {
            rows.Add(new LoggedPrediction(p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time));
            inputs.Add(p.CustomerId, p.InputsJson);
        }
        return new LoggedWindow(rows, inputs.Build());
    }

    /// <summary>
    /// Steps EF Core's statement for <paramref name="query"/> on the context's own SQLite connection: the columns are found
    /// by name, the time goes through the model's own converter, and the inputs are handed over as the bytes stored.
    /// </summary>
    private static async Task ReadSqliteAsync(
        ChurnDbContext db, IQueryable<PredictionLogEntry> query, List<LoggedPrediction> rows, LoggedInputs.Builder? inputs, CancellationToken ct)
    {
        await using var command = inputs is null
            ? query.Select(p => new { p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time }).CreateDbCommand()
            : query.Select(p => new { p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time, p.InputsJson }).CreateDbCommand();
        var time = TimeFromStore(db);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            var handle = connection.Handle!;
            Check(handle, raw.sqlite3_prepare_v2(handle, command.CommandText, out var statement));
            using (statement)
            {
                Bind(handle, statement, command.Parameters);
                var columns = Enumerable.Range(0, raw.sqlite3_column_count(statement))
                    .ToDictionary(c => raw.sqlite3_column_name(statement, c).utf8_to_string(), StringComparer.Ordinal);
                int Column(string name) => columns.TryGetValue(name, out var c)
                    ? c
                    : throw new InvalidOperationException($"The prediction log's statement has no column '{name}': {command.CommandText}");
                var (id, version, customer, probability, latency, at, json) = (
                    Column(nameof(PredictionLogEntry.Id)), Column(nameof(PredictionLogEntry.ModelVersion)), Column(nameof(PredictionLogEntry.CustomerId)),
                    Column(nameof(PredictionLogEntry.Probability)), Column(nameof(PredictionLogEntry.LatencyMicroseconds)), Column(nameof(PredictionLogEntry.Time)),
                    inputs is null ? -1 : Column(nameof(PredictionLogEntry.InputsJson)));
                for (var n = 1; ; n++)
                {
                    var step = raw.sqlite3_step(statement);
                    if (step == raw.SQLITE_DONE)
                    {
                        break;
                    }
                    if (step != raw.SQLITE_ROW)
                    {
                        Check(handle, step);
                    }
                    var customerId = raw.sqlite3_column_type(statement, customer) == raw.SQLITE_NULL
                        ? null
                        : Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, customer));
                    rows.Add(new LoggedPrediction(
                        GuidOf(statement, id),
                        raw.sqlite3_column_int(statement, version),
                        customerId,
                        raw.sqlite3_column_double(statement, probability),
                        raw.sqlite3_column_int64(statement, latency),
                        time(raw.sqlite3_column_int64(statement, at))));
                    inputs?.Add(customerId, raw.sqlite3_column_blob(statement, json));
                    if (n % RowsPerCancellationCheck == 0)
                    {
                        ct.ThrowIfCancellationRequested();
                    }
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The model's conversion of a stored time (a long on SQLite) back to the time it logged, compiled once per model.</summary>
    private static Func<long, DateTimeOffset> TimeFromStore(ChurnDbContext db) => TimeConversions.GetValue(db.Model, model =>
    {
        var property = model.FindEntityType(typeof(PredictionLogEntry))!.FindProperty(nameof(PredictionLogEntry.Time))!;
        return property.GetTypeMapping().Converter is ValueConverter<DateTimeOffset, long> converter
            ? converter.ConvertFromProviderExpression.Compile()
            : throw new InvalidOperationException("The prediction log's time is not stored as a long on SQLite.");
    });

    /// <summary>A stored id: the text SQLite keeps a Guid as, or its 16 bytes.</summary>
    private static Guid GuidOf(sqlite3_stmt statement, int column)
    {
        var bytes = raw.sqlite3_column_blob(statement, column);
        if (raw.sqlite3_column_type(statement, column) == raw.SQLITE_BLOB && bytes.Length == 16)
        {
            return new Guid(bytes);
        }
        return Utf8Parser.TryParse(bytes, out Guid id, out var used) && used == bytes.Length
            ? id
            : throw new InvalidOperationException($"A prediction log id is not a Guid: '{Encoding.UTF8.GetString(bytes)}'.");
    }

    /// <summary>Binds EF Core's parameter values (already in the store's form) to the statement by name.</summary>
    private static void Bind(sqlite3 handle, sqlite3_stmt statement, DbParameterCollection parameters)
    {
        foreach (DbParameter parameter in parameters)
        {
            var name = parameter.ParameterName;
            var index = name.Length > 0 && name[0] is '@' or ':' or '$'
                ? raw.sqlite3_bind_parameter_index(statement, name)
                : new[] { "@", ":", "$" }.Select(prefix => raw.sqlite3_bind_parameter_index(statement, prefix + name)).FirstOrDefault(i => i > 0);
            if (index <= 0)
            {
                throw new InvalidOperationException($"The prediction log's statement has no parameter '{name}'.");
            }
            Check(handle, parameter.Value switch
            {
                null or DBNull => raw.sqlite3_bind_null(statement, index),
                string text => raw.sqlite3_bind_text(statement, index, text),
                long or int or short or byte or bool => raw.sqlite3_bind_int64(statement, index, Convert.ToInt64(parameter.Value, System.Globalization.CultureInfo.InvariantCulture)),
                double or float => raw.sqlite3_bind_double(statement, index, Convert.ToDouble(parameter.Value, System.Globalization.CultureInfo.InvariantCulture)),
                byte[] blob => raw.sqlite3_bind_blob(statement, index, blob),
                var other => throw new NotSupportedException($"The prediction log's statement has a parameter '{name}' of type {other.GetType()}."),
            });
        }
        if (raw.sqlite3_bind_parameter_count(statement) != parameters.Count)
        {
            throw new InvalidOperationException("The prediction log's statement has parameters EF Core gave no value for.");
        }
    }

    private static void Check(sqlite3 handle, int code)
    {
        if (code != raw.SQLITE_OK)
        {
            throw new SqliteException($"SQLite Error {code}: '{raw.sqlite3_errmsg(handle).utf8_to_string()}'.", code);
        }
    }
}
