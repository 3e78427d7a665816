using System.Text.Json.Serialization;
using Churn.Data;
using Churn.Data.Store;

namespace Churn.Cli.Registry;

/// <summary>How the store commands open the store, report errors and print JSON.</summary>
internal static class StoreAccess
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Opens the store of the data directory from --data-dir / CHURN_DATA_DIR, with its churn.json and Churn__* settings.</summary>
    public static Task<ChurnStore> OpenAsync(string? dataDirFlag, CancellationToken cancellationToken) =>
        ChurnStore.OpenAsync(CommonOptions.ResolveDataDir(dataDirFlag), cancellationToken: cancellationToken);

    /// <summary>
    /// A command over the data directory's store: <paramref name="symbols"/> plus <c>--json</c> and <c>--data-dir</c>. Its
    /// action gets the parse result, the opened store and whether <c>--json</c> was given; the store's user-facing errors
    /// become one-sentence CLI errors.
    /// </summary>
    public static Command Command(string name, string description, Symbol[] symbols, Func<ParseResult, ChurnStore, bool, CancellationToken, Task> action)
    {
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command(name, description);
        Commands.AddAll(command, [.. symbols, json, dataDir]);
        command.SetAction((parse, ct) => RunAsync(async () =>
        {
            using var store = await OpenAsync(parse.GetValue(dataDir), ct);
            await action(parse, store, parse.GetValue(json), ct);
        }));
        return command;
    }

    /// <summary>Runs a store command, turning the store's user-facing errors into one-sentence CLI errors.</summary>
    public static async Task<int> RunAsync(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (StoreException ex)
        {
            throw new CliException(ex.Message);
        }
    }

    /// <summary>
    /// Gives the MLflow mirror a few seconds to send what this command queued. It never fails the command: whatever is
    /// not delivered stays in the outbox for the next command or the server.
    /// </summary>
    public static async Task MirrorAsync(ChurnStore store)
    {
        if (!store.Mirror.Enabled)
        {
            return;
        }
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            var pass = await store.Mirror.DeliverPendingAsync(budget.Token);
            if (pass.Describe() is { } message)
            {
                await Console.Error.WriteLineAsync($"churn: {message}");
            }
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("churn: MLflow mirror is slow; the rest is queued and will be retried.");
        }
    }

    public static void WriteJson<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>Prints the rows of a listing as a table, one row each, or <paramref name="none"/> when there are none.</summary>
    public static void WriteTable<T>(IReadOnlyCollection<T> rows, string none, string[] columns, Func<T, string[]> cells)
    {
        if (rows.Count == 0)
        {
            Console.WriteLine(none);
            return;
        }
        var table = new Table().AddColumns(columns);
        foreach (var row in rows)
        {
            table.AddRow(cells(row));
        }
        AnsiConsole.Write(table);
    }

    public static string Time(DateTimeOffset? time) => time?.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "";
}
