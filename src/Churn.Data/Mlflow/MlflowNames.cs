using System.Text;
using System.Text.RegularExpressions;
using Churn.Data.Settings;

namespace Churn.Data.Mlflow;

/// <summary>
/// MLflow's naming rules, kept in one place. Param, metric and tag keys may hold only letters, digits, '_', '-', '.',
/// ' ' and '/', at most 250 characters, and must read the same after POSIX path normalisation: no empty segment
/// (<c>a//b</c>, <c>a/</c>, <c>/a</c>), no <c>.</c> or <c>..</c> segment (MLflow's <c>mlflow/utils/validation.py</c>,
/// <c>_validate_param_name</c> and <c>path_not_unique</c>). A key breaking them is refused with 400, which would hold
/// its run back for good, so the mirror rewrites every key into one MLflow accepts.
/// </summary>
public static partial class MlflowNames
{
    /// <summary>MLflow's limit on param, metric and tag keys (<c>MAX_ENTITY_KEY_LENGTH</c>).</summary>
    public const int MaxKeyLength = 250;

    /// <summary>The store setting that holds the generated deployment name.</summary>
    internal const string DeploymentSetting = "mlflow:deployment";

    /// <summary>
    /// A key MLflow accepts, as close to <paramref name="key"/> as the rules allow: other characters become '_', empty
    /// and <c>.</c> segments are dropped, <c>..</c> segments become <c>__</c>, and the result is cut to 250 characters
    /// (then normalised again, so a cut never ends on '/'). An empty result becomes "_".
    /// </summary>
    public static string Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var cleaned = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            cleaned.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' or '/' ? c : '_');
        }
        var result = Normalise(cleaned.ToString());
        if (result.Length > MaxKeyLength)
        {
            result = Normalise(result[..MaxKeyLength]);
        }
        return result.Length == 0 ? "_" : result;
    }

    /// <summary>
    /// Cleans every key with <see cref="Key(string)"/> and makes the results distinct within the list (MLflow refuses a
    /// batch that names one param twice, and two metrics under one key would overwrite each other). Keys MLflow already
    /// accepts keep their name; a rewritten key that meets another gets <c>_2</c>, <c>_3</c>, ... appended.
    /// </summary>
    public static IReadOnlyList<string> UniqueKeys(IEnumerable<string> keys)
    {
        var originals = keys.ToList();
        var cleaned = originals.Select(Key).ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var result = new string[originals.Count];
        for (var i = 0; i < originals.Count; i++)
        {
            if (cleaned[i] == originals[i] && taken.Add(cleaned[i]))
            {
                result[i] = cleaned[i];
            }
        }
        for (var i = 0; i < originals.Count; i++)
        {
            if (result[i] is not null)
            {
                continue;
            }
            var clean = cleaned[i];
            var candidate = clean;
            for (var n = 2; !taken.Add(candidate); n++)
            {
                var suffix = $"_{n}";
                candidate = Key(clean.Length + suffix.Length > MaxKeyLength ? clean[..(MaxKeyLength - suffix.Length)] + suffix : clean + suffix);
            }
            result[i] = candidate;
        }
        return result;
    }

    /// <summary>True when <paramref name="name"/> is 1 to 100 letters, digits, '.', '_' or '-' (a deployment name).</summary>
    public static bool IsPlainName(string name) => PlainName().IsMatch(name);

    /// <summary>A name template with <c>{deployment}</c> and <c>{model}</c> filled in.</summary>
    public static string Fill(string template, string deployment, string model) =>
        template.Replace(MlflowOptions.DeploymentPlaceholder, deployment, StringComparison.Ordinal)
            .Replace(MlflowOptions.ModelPlaceholder, model, StringComparison.Ordinal);

    /// <summary>
    /// The deployment name: the configured one, else the one generated for this store on first use and kept in its
    /// settings table. Two processes racing on the first use both read back the row that won.
    /// </summary>
    public static async Task<string> DeploymentAsync(StoreFactory contexts, MlflowOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(options.Deployment))
        {
            return options.Deployment;
        }
        await using var db = contexts.CreateDbContext();
        var stored = await db.Settings.AsNoTracking().Where(s => s.Key == DeploymentSetting).Select(s => s.ValueJson).SingleOrDefaultAsync(cancellationToken);
        if (stored is null)
        {
            var generated = $"churn-{Guid.NewGuid():N}"[..14];
            db.Settings.Add(new Setting { Key = DeploymentSetting, ValueJson = System.Text.Json.JsonSerializer.Serialize(generated), UpdatedAt = time.GetUtcNow(), UpdatedBy = "mlflow mirror" });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another process stored its name first; that one is read back below.
            }
            await using var reread = contexts.CreateDbContext();
            stored = await reread.Settings.AsNoTracking().Where(s => s.Key == DeploymentSetting).Select(s => s.ValueJson).SingleAsync(cancellationToken);
        }
        return System.Text.Json.JsonSerializer.Deserialize<string>(stored)!;
    }

    /// <summary>
    /// POSIX normalisation as MLflow applies it to keys: empty and "." segments go, and a segment starting with ".."
    /// (a step up, or a name MLflow would take for one) has its leading dots turned into '_'.
    /// </summary>
    private static string Normalise(string key)
    {
        var segments = key.Split('/')
            .Where(s => s.Length > 0 && s != ".")
            .Select(s => s.StartsWith("..", StringComparison.Ordinal) ? new string('_', s.Length - s.TrimStart('.').Length) + s.TrimStart('.') : s);
        return string.Join('/', segments);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex PlainName();
}
