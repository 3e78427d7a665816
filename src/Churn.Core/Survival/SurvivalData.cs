namespace Churn.Core.Survival;

/// <summary>
/// Time-to-churn data: the covariates of each customer (the duration column is not among them), the duration observed
/// and whether it ended with churn (true) or with the end of observation (false: censored).
/// </summary>
public sealed class SurvivalData
{
    /// <summary>Builds survival data; throws <see cref="ArgumentException"/> when the lengths differ or a duration is negative or not finite.</summary>
    public SurvivalData(SurvivalSchema schema, Dataset covariates, double[] durations, bool[] events)
    {
        if (durations.Length != covariates.RowCount || events.Length != covariates.RowCount)
        {
            throw new ArgumentException("The durations, events and covariates must have one entry per row.", nameof(durations));
        }
        for (var i = 0; i < durations.Length; i++)
        {
            if (!double.IsFinite(durations[i]) || durations[i] < 0)
            {
                throw new ArgumentException($"Duration {durations[i].ToString(CultureInfo.InvariantCulture)} of row {i} is not a non-negative number.", nameof(durations));
            }
        }
        Schema = schema;
        Covariates = covariates;
        Durations = durations;
        Events = events;
    }

    public SurvivalSchema Schema { get; }

    /// <summary>The covariates, read through <see cref="SurvivalSchema.Data"/>; its labels are the events.</summary>
    public Dataset Covariates { get; }

    /// <summary>Observed durations, in the schema's unit, non-negative.</summary>
    public double[] Durations { get; }

    /// <summary>True where the duration ended with churn; false where the customer was censored.</summary>
    public bool[] Events { get; }

    public int RowCount => Durations.Length;

    /// <summary>The longest observed duration.</summary>
    public double LongestDuration => Durations.Length == 0 ? 0 : Durations.Max();

    /// <summary>A subset of the rows, in the given order.</summary>
    public SurvivalData Select(IReadOnlyList<int> rows) =>
        new(Schema, Covariates.Select(rows), [.. rows.Select(r => Durations[r])], [.. rows.Select(r => Events[r])]);

    /// <summary>
    /// Reads a CSV file: the covariates through the schema, the duration column as a number and the event column through
    /// the schema's label rule (exactly the event value(s) and one other class, the censored one).
    /// </summary>
    /// <exception cref="CsvFormatException">A malformed file, a missing column, a cell that does not fit its kind, or a duration that is missing or negative (the message names the line and column).</exception>
    /// <exception cref="InvalidDataException">The event column holds values other than the event value(s) and one censored class.</exception>
    /// <exception cref="SchemaException">The schema is not valid.</exception>
    public static SurvivalData Load(string path, SurvivalSchema schema, CsvDialect? dialect = null)
    {
        schema.Validated(path);
        // The duration is read as one more numeric column and then taken out, so every cell goes through the same parser
        // and the same messages as the covariates.
        var reading = schema.Data with
        {
            Features = [.. schema.Data.Features, new FeatureSpec(schema.DurationColumn, FeatureKind.Numeric)],
            Drop = [.. schema.Data.Drop.Where(d => !string.Equals(ValueParser.Canonical(d), ValueParser.Canonical(schema.DurationColumn), StringComparison.Ordinal))],
        };
        var column = DurationColumnNumber(path, schema.DurationColumn, DatasetLoader.DialectFor(schema.Data, dialect));
        var read = DatasetLoader.Load(path, reading, LabelRequirement.Required, dialect);
        var durationColumn = read.Columns[^1].Numbers!;
        for (var i = 0; i < durationColumn.Length; i++)
        {
            var d = durationColumn[i];
            if (double.IsNaN(d))
            {
                throw new CsvFormatException(path, read.Lines[i], column, $"column '{schema.DurationColumn}': the duration is missing; every customer needs a duration (time to churn or to the end of observation).");
            }
            if (d < 0 || double.IsInfinity(d))
            {
                throw new CsvFormatException(path, read.Lines[i], column, $"column '{schema.DurationColumn}': the duration {d.ToString(CultureInfo.InvariantCulture)} is negative or infinite; durations are times since the customer started.");
            }
        }
        var covariates = new Dataset(schema.Data, read.Columns[..^1], read.Ids, read.Labels, read.Lines, read.Fingerprint) { ReadAs = read.ReadAs };
        return new SurvivalData(schema, covariates, durationColumn, read.RequireLabels());
    }

    private static int DurationColumnNumber(string path, string name, CsvDialect dialect)
    {
        using var reader = CsvReader.Open(path, dialect);
        return reader.RequireColumn(name, "the duration column") + 1;
    }
}
