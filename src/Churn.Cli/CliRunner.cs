using Churn.Server.Hosting;

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

    /// <summary>The CSV file a command reads: --data, required; <paramref name="description"/> says what it must hold.</summary>
    public static Option<string> Data(string description) => new("--data") { Description = description, Required = true };

    /// <summary>The seed of a command's only random source: --seed, 42 unless given, as in the training options.</summary>
    public static Option<int> Seed(string description = "Random seed.") => new("--seed") { Description = description, DefaultValueFactory = _ => 42 };

    /// <summary>A published fold assignment (a CSV of row,fold) used instead of seeded cross-validation folds: --folds.</summary>
    public static Option<string?> FoldFile(string description = "CSV of 'row,fold' giving each data row's cross-validation fold (overrides --cv).") =>
        new("--folds") { Description = description };

    /// <summary>The model a command scores with: --model, a package file or a registered version (see <see cref="Modeling.ModelLocator"/>).</summary>
    public static Option<string> ModelReference() =>
        new("--model") { Description = "Model package file, or a registered version: champion, challenger, 3.", Required = true };

    /// <summary>The registered model a command trains or retrains: --name, <paramref name="defaultName"/> unless given.</summary>
    public static Option<string> ModelName(string defaultName) =>
        new("--name") { Description = "Registered model name.", DefaultValueFactory = _ => defaultName };

    /// <summary>The directory a training command also writes the package and card to: --out.</summary>
    public static Option<string?> PackageOut() => new("--out") { Description = "Also write model.zip and card.json to this directory." };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Data directory (store, model files, configuration). Default: $CHURN_DATA_DIR or ./churn-data.",
    };

    /// <summary>The data directory from the flag, then CHURN_DATA_DIR, then ./churn-data.</summary>
    public static string ResolveDataDir(string? flag) =>
        ServerOptions.ResolveDataDir(flag, Environment.GetEnvironmentVariable(ServerOptions.DataDirVariable));
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
