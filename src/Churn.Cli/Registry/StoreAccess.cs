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

    public static string Time(DateTimeOffset? time) => time?.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "";
}
