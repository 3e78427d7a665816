using System.Text.RegularExpressions;

namespace Churn.Data;

/// <summary>Model names become directory names and MLflow names, so they are kept to a portable alphabet.</summary>
public static partial class ModelNames
{
    public static void Validate(string modelName)
    {
        if (modelName is null || !Pattern().IsMatch(modelName))
        {
            throw new RegistryException(
                $"Model name '{modelName}' is not valid: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex Pattern();
}

/// <summary>The aliases a model can carry.</summary>
public static class ModelAliases
{
    public const string Champion = "champion";
    public const string Challenger = "challenger";

    public static string Validate(string alias) => alias?.ToLowerInvariant() switch
    {
        Champion => Champion,
        Challenger => Challenger,
        _ => throw new RegistryException($"Alias '{alias}' is not known: use champion or challenger."),
    };
}
