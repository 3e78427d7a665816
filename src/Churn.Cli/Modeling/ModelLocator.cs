using Churn.Cli.Registry;
using Churn.Data;
using Churn.Data.Registry;

namespace Churn.Cli.Modeling;

/// <summary>
/// Finds the package a --model flag means: a file path, or a registry reference to a version in the
/// data directory's store ("champion", "challenger", "3", "v3", or "name@champion").
/// </summary>
internal static class ModelLocator
{
    /// <summary>True when <paramref name="reference"/> names a registered version rather than a package file.</summary>
    public static bool IsRegistryReference(string reference) =>
        !(File.Exists(reference) || reference.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) || reference.Contains('/', StringComparison.Ordinal));

    /// <summary>Loads the package <paramref name="reference"/> means (see <see cref="ResolveAsync"/>).</summary>
    public static async Task<ChurnModel> LoadAsync(string reference, string? dataDir, CancellationToken ct) =>
        ChurnModel.Load(await ResolveAsync(reference, dataDir, ct));

    public static async Task<string> ResolveAsync(string reference, string? dataDir, CancellationToken ct)
    {
        if (!IsRegistryReference(reference))
        {
            return reference;
        }
        var (name, selector) = reference.Split('@') is [var n, var s] ? (n, s) : (Core.Training.TrainingOptions.DefaultModelName, reference);
        using var store = await StoreAccess.OpenAsync(dataDir, ct);
        ModelVersionInfo? version;
        var number = selector.TrimStart('v', 'V');
        if (int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
        {
            version = await store.Registry.GetVersionAsync(name, v, ct);
        }
        else
        {
            version = await store.Registry.ResolveAliasAsync(name, ModelAliases.Validate(selector), ct);
        }
        return version is null
            ? throw new CliException($"no model '{reference}' in the store at {store.DataDir}: give a package file or a registered version (see 'churn models list').")
            : store.Registry.PackagePath(version, verifySha256: true);
    }
}
