using Churn.Core.Features;

namespace Churn.Core.Campaigns;

/// <summary>
/// Randomised campaign history ready for an uplift model: each customer's features (typed through a schema),
/// whether they were treated, and whether the outcome the campaign aims for happened (already flipped for a
/// campaign that aims to lower its outcome, so higher is always better).
/// </summary>
public sealed class UpliftData
{
    private UpliftData(Dataset features, bool[] treated, bool[] outcomes, int[] sourceRows)
    {
        Features = features;
        Treated = treated;
        Outcomes = outcomes;
        SourceRows = sourceRows;
    }

    /// <summary>The customers' features; its schema's label is the outcome column.</summary>
    public Dataset Features { get; }

    /// <summary>True for treated customers, false for control.</summary>
    public bool[] Treated { get; }

    /// <summary>True when the wanted outcome happened (the positive value, or its absence when the goal is to decrease it).</summary>
    public bool[] Outcomes { get; }

    /// <summary>
    /// Each customer's 0-based data row (the header not counted) in the file it was read from, so a published fold
    /// assignment of that file applies; 0 to n − 1 for data built in memory.
    /// </summary>
    public int[] SourceRows { get; }

    /// <summary>Number of customers.</summary>
    public int Count => Treated.Length;

    /// <summary>
    /// Reads a campaign history file. Rows of other arms (a third e-mail, say) are left out. Feature kinds are
    /// inferred (as <c>churn schema infer</c> does) from every column except the arm, the outcome and
    /// <paramref name="drop"/>, and narrowed to <paramref name="features"/> when it is given.
    /// </summary>
    /// <exception cref="InvalidDataException">A named column or arm is absent, or the outcome is not binary.</exception>
    /// <exception cref="CsvFormatException">A cell does not fit its kind, or an arm or outcome is blank (names the line and column).</exception>
    public static UpliftData Load(string path, string armColumn, string treatedArm, string controlArm, string outcomeColumn, bool decrease,
        IReadOnlyList<string>? features = null, IReadOnlyList<string>? drop = null, string? positive = null)
    {
        var units = ExperimentFile.Read(path, armColumn, outcomeColumn, null, positive, out var positiveValue);
        var arms = units.Select(u => u.Arm).Distinct(StringComparer.Ordinal).ToList();
        foreach (var (arm, role) in new[] { (treatedArm, "treated"), (controlArm, "control") })
        {
            if (!arms.Contains(arm))
            {
                throw new InvalidDataException($"The {role} arm '{arm}' does not occur in '{armColumn}'; the arms are: {string.Join(", ", arms.Select(a => $"'{a}'"))}.");
            }
        }
        if (treatedArm == controlArm)
        {
            throw new InvalidDataException("The treated and control arms must differ.");
        }
        var inferred = SchemaInference.Infer(path, outcomeColumn, positiveValue, drop: [armColumn, .. drop ?? []]).Schema;
        var specs = inferred.Features;
        if (features is { Count: > 0 })
        {
            specs = [.. features.Select(f => inferred.Features.FirstOrDefault(s => s.Name == f)
                ?? throw new InvalidDataException($"'{f}' is not a usable feature column of {path} (an identifier, free text, the arm or the outcome, or absent)."))];
        }
        if (specs.Count == 0)
        {
            throw new InvalidDataException($"{path}: no column is left to use as a feature.");
        }
        var schema = inferred with { Features = specs };
        var all = DatasetLoader.Load(path, schema, LabelRequirement.Required);
        if (all.RowCount != units.Count)
        {
            throw new InvalidDataException($"{path}: {all.RowCount} rows of features but {units.Count} rows of arms.");
        }
        var rows = Enumerable.Range(0, units.Count).Where(i => units[i].Arm == treatedArm || units[i].Arm == controlArm).ToArray();
        return new UpliftData(all.Select(rows), [.. rows.Select(i => units[i].Arm == treatedArm)], [.. rows.Select(i => units[i].Outcome != decrease)], rows);
    }

    /// <summary>Builds uplift data from parts already in memory (generated customers, campaign history in the store).</summary>
    /// <exception cref="ArgumentException">The arrays do not have one entry per customer.</exception>
    public static UpliftData From(Dataset features, bool[] treated, bool[] outcomes)
    {
        if (treated.Length != features.RowCount || outcomes.Length != features.RowCount)
        {
            throw new ArgumentException("Arms and outcomes need one entry per customer.", nameof(treated));
        }
        return new UpliftData(features, treated, outcomes, [.. Enumerable.Range(0, features.RowCount)]);
    }

    /// <summary>Fits the encoder on these customers (category vocabularies).</summary>
    public FeatureEncoder FitEncoder() => FeatureEncoder.Fit(Features);
}
