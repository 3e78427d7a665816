namespace Churn.Cli;

/// <summary>An error the user can fix: printed as one sentence, exit code 1, no stack trace.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Options shared by every command.</summary>
internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object on stdout instead of tables." };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Data directory (store, model files, configuration). Default: $CHURN_DATA_DIR or ./churn-data.",
    };

    /// <summary>The data directory from the flag, then CHURN_DATA_DIR, then ./churn-data.</summary>
    public static string ResolveDataDir(string? flag) =>
        Path.GetFullPath(flag ?? Environment.GetEnvironmentVariable("CHURN_DATA_DIR") ?? "churn-data");
}

internal static class CliRunner
{
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync($"churn: {ex.Message}");
            return ex.ExitCode;
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            await Console.Error.WriteLineAsync($"churn: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Errors caused by the input (files, flags, data) rather than by a bug: one sentence, no stack trace.</summary>
    private static bool IsUserError(Exception ex) => ex is IOException or UnauthorizedAccessException or InvalidDataException
        or Core.Schema.SchemaException or Core.Data.CsvFormatException or Core.Models.ModelPackageException or Core.Scoring.FeatureValueException
        or ArgumentException;
}
