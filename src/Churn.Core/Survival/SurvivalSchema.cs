using System.Text.Json;

namespace Churn.Core.Survival;

/// <summary>
/// Describes time-to-churn data: a dataset schema whose label column is the event column (its positive labels are the
/// event values, any other class is censored) plus the duration column, the prediction horizons and, optionally, a column
/// holding each customer's value per duration unit (for revenue at risk).
/// </summary>
/// <remarks>
/// A schema file is a dataset schema (see <see cref="DatasetSchema"/>) with the extra fields <c>durationColumn</c>,
/// <c>horizons</c> and <c>valueColumn</c>. The duration column is never a covariate: naming it among the features is
/// refused, and columns derived from it (Telco's <c>TotalCharges</c>, about tenure × monthly charges) belong in
/// <c>drop</c>; <see cref="DurationLeakage"/> points at them.
/// </remarks>
public sealed record SurvivalSchema
{
    /// <summary>The horizons used when none are given: 1, 3, 6 and 12 duration units (months for monthly data).</summary>
    public static readonly IReadOnlyList<double> DefaultHorizons = [1, 3, 6, 12];

    /// <summary>The covariates, the id and the event column (as the label) with its event value(s).</summary>
    public required DatasetSchema Data { get; init; }

    /// <summary>The column holding the time from the start of the relationship to churn or to the end of observation.</summary>
    public required string DurationColumn { get; init; }

    /// <summary>The prediction horizons, in the duration's unit, ascending and positive.</summary>
    public IReadOnlyList<double> Horizons { get; init; } = DefaultHorizons;

    /// <summary>A covariate holding the customer's value per duration unit (e.g. monthly charges), for revenue at risk; optional.</summary>
    public string? ValueColumn { get; init; }

    /// <summary>The event column (the dataset schema's label column).</summary>
    public string EventColumn => Data.LabelColumn;

    /// <summary>Checks the schema; returns the problems, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Data.Validate());
        if (string.IsNullOrWhiteSpace(DurationColumn))
        {
            problems.Add("durationColumn is empty.");
        }
        else
        {
            if (Data.IndexOf(DurationColumn) >= 0)
            {
                problems.Add($"the duration column '{DurationColumn}' is listed as a feature; it cannot be a covariate of its own outcome, so remove it from features.");
            }
            if (string.Equals(DurationColumn, Data.LabelColumn, StringComparison.Ordinal))
            {
                problems.Add($"the duration column and the event column are both '{DurationColumn}'.");
            }
            if (Data.IdColumn is { } id && string.Equals(DurationColumn, id, StringComparison.Ordinal))
            {
                problems.Add($"the duration column '{DurationColumn}' is also the id column.");
            }
        }
        if (Horizons.Count == 0)
        {
            problems.Add("horizons is empty: give at least one horizon.");
        }
        for (var i = 0; i < Horizons.Count; i++)
        {
            if (!double.IsFinite(Horizons[i]) || Horizons[i] <= 0)
            {
                problems.Add($"horizons[{i}] ({Horizons[i].ToString(CultureInfo.InvariantCulture)}) must be a positive number.");
            }
            else if (i > 0 && Horizons[i] <= Horizons[i - 1])
            {
                problems.Add("horizons must be in ascending order without repeats.");
            }
        }
        if (ValueColumn is { } value && Data.IndexOf(value) < 0)
        {
            problems.Add($"valueColumn '{value}' is not a feature.");
        }
        else if (ValueColumn is { } numeric && Data.Features[Data.IndexOf(numeric)].Kind != FeatureKind.Numeric)
        {
            problems.Add($"valueColumn '{numeric}' is not a numeric feature.");
        }
        return problems;
    }

    /// <summary>The schema, or <see cref="SchemaException"/> listing every problem.</summary>
    public SurvivalSchema Validated(string source = "survival schema")
    {
        var problems = Validate();
        return problems.Count > 0 ? throw new SchemaException($"{source}: {string.Join(" ", problems)}") : this;
    }

    /// <summary>Reads a survival schema file; throws <see cref="SchemaException"/> naming the file and the problem.</summary>
    public static SurvivalSchema Load(string path) => Parse(DatasetSchema.ReadFile(path), path);

    /// <summary>Parses survival schema JSON (a dataset schema with <c>durationColumn</c>, optional <c>horizons</c> and <c>valueColumn</c>).</summary>
    public static SurvivalSchema Parse(string json, string source = "schema")
    {
        var fields = DatasetSchema.Deserialize<SurvivalFields>(json, source);
        if (fields?.DurationColumn is not { Length: > 0 } duration)
        {
            throw new SchemaException($"{source}: durationColumn is missing; a survival schema names the duration column.");
        }
        var data = DatasetSchema.Deserialize<DatasetSchema>(json, source) ?? throw new SchemaException($"{source}: the schema is empty.");
        return new SurvivalSchema
        {
            Data = data,
            DurationColumn = duration,
            Horizons = fields.Horizons ?? DefaultHorizons,
            ValueColumn = fields.ValueColumn,
        }.Validated(source);
    }

    /// <summary>
    /// Proposes a survival schema from a CSV file for review: the dataset schema <see cref="SchemaInference"/> proposes with
    /// the event column as the label, the duration column left out of the covariates and the default horizons.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="durationColumn">The duration column.</param>
    /// <param name="eventColumn">The event column.</param>
    /// <param name="eventValues">Values of the event column meaning "churned".</param>
    /// <param name="censoredValues">Values meaning "censored"; null or empty for the one other class in the file.</param>
    /// <param name="idColumn">The id column, or null to propose one.</param>
    /// <param name="drop">Other columns to leave out.</param>
    /// <param name="dialect">Delimiter and decimal mark given by the user; null parts are detected.</param>
    /// <returns>The schema and the notes explaining each choice.</returns>
    /// <exception cref="SchemaException">A named column is missing or the event column does not hold exactly two classes as given.</exception>
    /// <exception cref="CsvFormatException">The file is malformed.</exception>
    public static (SurvivalSchema Schema, IReadOnlyList<string> Notes) Infer(string path, string durationColumn, string eventColumn, IReadOnlyList<string> eventValues,
        IReadOnlyList<string>? censoredValues = null, string? idColumn = null, IReadOnlyCollection<string>? drop = null, CsvDialect? dialect = null)
    {
        // The duration is left out of the inferred covariates: it is the outcome, not a predictor of it.
        var inferred = SchemaInference.Infer(path, eventColumn, eventValues, censoredValues, idColumn, [.. drop ?? [], durationColumn], dialect);
        return (new SurvivalSchema { Data = inferred.Schema, DurationColumn = durationColumn }, inferred.Notes);
    }

    /// <summary>
    /// The schema keeping only the horizons up to <paramref name="longest"/> (the longest duration observed in the data),
    /// or that duration alone when no horizon is that short: a model says nothing about later times. Unchanged when every
    /// horizon fits.
    /// </summary>
    public SurvivalSchema HorizonsWithin(double longest)
    {
        if (Horizons.All(h => h <= longest))
        {
            return this;
        }
        var within = Horizons.Where(h => h <= longest).ToArray();
        return this with { Horizons = within.Length > 0 ? within : [longest] };
    }

    /// <summary>The schema as JSON: the dataset schema's fields followed by the survival fields.</summary>
    public string ToJson()
    {
        var node = JsonSerializer.SerializeToNode(Data, DatasetSchema.JsonOptions)!.AsObject();
        node["durationColumn"] = DurationColumn;
        node["horizons"] = JsonSerializer.SerializeToNode(Horizons);
        if (ValueColumn is not null)
        {
            node["valueColumn"] = ValueColumn;
        }
        return node.ToJsonString(DatasetSchema.JsonOptions);
    }

    private sealed record SurvivalFields(string? DurationColumn, IReadOnlyList<double>? Horizons, string? ValueColumn);
}
