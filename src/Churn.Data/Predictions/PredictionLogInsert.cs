using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Churn.Data.Predictions;

/// <summary>
/// Appends rows to the prediction log without EF Core's change tracker: the columns, their order and each value's
/// conversion come from the context's model (so a row is stored exactly as <c>SaveChanges</c> would store it, and reads
/// back the same through EF), but no entity is tracked and no command is built per row. On SQLite one prepared
/// <c>INSERT</c> is bound and stepped once per row; on other providers rows go in multi-row <c>INSERT … VALUES</c>
/// statements of up to <see cref="RowsPerStatement"/> rows, one round trip each. Everything runs in the context's
/// current transaction when it has one, otherwise in a transaction of its own: all the rows are stored or none.
/// </summary>
public static class PredictionLogInsert
{
    /// <summary>Rows in one multi-row statement (non-SQLite providers): 500 rows of 9 columns stay far below PostgreSQL's 65,535 parameters.</summary>
    public const int RowsPerStatement = 500;

    private static readonly ConditionalWeakTable<IModel, Plan> Plans = [];

    /// <summary>
    /// Inserts <paramref name="entries"/> (entries marked <see cref="PredictionLogEntry.Rehearsal"/> included: the caller
    /// decides what is real) into the prediction log of <paramref name="db"/>'s store.
    /// </summary>
    /// <exception cref="DbException">The store refused the rows (a duplicate id, the store unreachable); none were kept.</exception>
    public static async Task InsertAsync(ChurnDbContext db, IReadOnlyList<PredictionLogEntry> entries, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }
        var plan = Plans.GetValue(db.Model, _ => new Plan(db));
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var ambient = db.Database.CurrentTransaction?.GetDbTransaction();
            await using var own = ambient is null ? await connection.BeginTransactionAsync(ct) : null;
            var transaction = ambient ?? own!;
            if (db.ProviderName == StoreOptions.Sqlite)
            {
                await InsertRowByRowAsync(plan, connection, transaction, entries, ct);
            }
            else
            {
                await InsertMultiRowAsync(plan, connection, transaction, entries, ct);
            }
            if (own is not null)
            {
                await own.CommitAsync(ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task InsertRowByRowAsync(Plan plan, DbConnection connection, DbTransaction transaction, IReadOnlyList<PredictionLogEntry> entries, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = plan.Statement(1);
        var parameters = new DbParameter[plan.Columns.Length];
        for (var c = 0; c < parameters.Length; c++)
        {
            parameters[c] = plan.Columns[c].Mapping.CreateParameter(command, plan.ParameterName(c), null, nullable: true);
            command.Parameters.Add(parameters[c]);
        }
        await command.PrepareAsync(ct);
        foreach (var entry in entries)
        {
            for (var c = 0; c < parameters.Length; c++)
            {
                parameters[c].Value = plan.Columns[c].ProviderValue(entry);
            }
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task InsertMultiRowAsync(Plan plan, DbConnection connection, DbTransaction transaction, IReadOnlyList<PredictionLogEntry> entries, CancellationToken ct)
    {
        for (var start = 0; start < entries.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, entries.Count - start);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = plan.Statement(rows);
            var n = 0;
            for (var r = 0; r < rows; r++)
            {
                var entry = entries[start + r];
                foreach (var column in plan.Columns)
                {
                    var parameter = column.Mapping.CreateParameter(command, plan.ParameterName(n++), null, nullable: true);
                    parameter.Value = column.ProviderValue(entry);
                    command.Parameters.Add(parameter);
                }
            }
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The log table's columns as the model maps them, and the statement text for a number of rows.</summary>
    private sealed class Plan
    {
        private readonly string head;
        private readonly ISqlGenerationHelper sql;
        private string? single;

        public Plan(ChurnDbContext db)
        {
            var entity = db.Model.FindEntityType(typeof(PredictionLogEntry))
                ?? throw new InvalidOperationException("The store's model has no prediction log.");
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            sql = db.GetService<ISqlGenerationHelper>();
            Columns = [.. entity.GetProperties().Select(p => new Column(p.GetColumnName(table)!, p.GetRelationalTypeMapping(), p.GetGetter()))];
            head = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", Columns.Select(c => sql.DelimitIdentifier(c.Name)))}) VALUES ";
        }

        public Column[] Columns { get; }

        public string ParameterName(int n) => sql.GenerateParameterName("p" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public string Statement(int rows)
        {
            if (rows == 1 && single is not null)
            {
                return single;
            }
            var text = new StringBuilder(head);
            var n = 0;
            for (var r = 0; r < rows; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < Columns.Length; c++)
                {
                    text.Append(c == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder("p" + (n++).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
                text.Append(')');
            }
            var statement = text.ToString();
            if (rows == 1)
            {
                single = statement;
            }
            return statement;
        }
    }

    /// <summary>One column: its name, the provider's type mapping (with any value converter) and how to read it from an entry.</summary>
    private sealed record Column(string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Getter)
    {
        /// <summary>The entry's value as the provider stores it (converted where the model converts), or <see cref="DBNull"/>.</summary>
        public object ProviderValue(PredictionLogEntry entry)
        {
            var value = Getter.GetClrValue(entry);
            if (value is not null && Mapping.Converter is { } converter)
            {
                value = converter.ConvertToProvider(value);
            }
            return value ?? DBNull.Value;
        }
    }
}
