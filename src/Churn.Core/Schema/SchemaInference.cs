namespace Churn.Core.Schema;

/// <summary>A schema proposed from a file, with the reasons for every choice a person should review.</summary>
public sealed record InferredSchema(DatasetSchema Schema, IReadOnlyList<string> Notes);

/// <summary>Proposes a schema from a CSV file: kinds from the values, identifiers and free text dropped.</summary>
public static class SchemaInference
{
    /// <summary>Categorical columns with more distinct values than this (and over 5 % of rows) are dropped as free text.</summary>
    public const int MaxCategories = 100;

    /// <summary>Reads the file once and proposes a schema for review (one positive label value, dialect detected).</summary>
    public static InferredSchema Infer(string path, string labelColumn, string positiveLabel, string? idColumn = null, IReadOnlyCollection<string>? drop = null) =>
        Infer(path, labelColumn, [positiveLabel], null, idColumn, drop);

    /// <summary>
    /// Reads the file once and proposes a schema for review. The label column must hold exactly two classes under
    /// <see cref="LabelRule"/>; the negative values found are recorded when none are given.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="labelColumn">The label column.</param>
    /// <param name="positiveLabels">Values meaning "churned" (at least one).</param>
    /// <param name="negativeLabels">Values meaning "stayed"; null or empty for the one other class in the file.</param>
    /// <param name="idColumn">The id column, or null to propose one.</param>
    /// <param name="drop">Columns to leave out.</param>
    /// <param name="dialect">Delimiter and decimal mark given by the user (recorded in the schema); null parts are detected.</param>
    /// <exception cref="SchemaException">A named column is missing, the label values given are contradictory, or the label
    /// column does not hold exactly two classes as given (the message lists every distinct value and its count).</exception>
    /// <exception cref="CsvFormatException">The file is malformed.</exception>
    public static InferredSchema Infer(string path, string labelColumn, IReadOnlyList<string> positiveLabels, IReadOnlyList<string>? negativeLabels,
        string? idColumn = null, IReadOnlyCollection<string>? drop = null, CsvDialect? dialect = null)
    {
        LabelRule rule;
        try
        {
            rule = new LabelRule(labelColumn, positiveLabels, negativeLabels ?? []);
        }
        catch (ArgumentException ex)
        {
            throw new SchemaException($"{path}: {ex.Message}");
        }
        using var reader = CsvReader.Open(path, dialect);
        var labelIndex = reader.ColumnIndex(labelColumn);
        if (labelIndex < 0)
        {
            throw new SchemaException($"{path}: {reader.MissingColumn(labelColumn, "the label column")}");
        }
        labelColumn = reader.Header[labelIndex];
        if (idColumn is not null)
        {
            var idIndex = reader.ColumnIndex(idColumn);
            idColumn = idIndex >= 0 ? reader.Header[idIndex] : throw new SchemaException($"{path}: {reader.MissingColumn(idColumn, "the id column")}");
        }
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in drop ?? [])
        {
            var i = reader.ColumnIndex(d);
            dropped.Add(i >= 0 ? reader.Header[i] : throw new SchemaException($"{path}: {reader.MissingColumn(d, "to drop")}"));
        }
        var n = reader.Header.Count;
        var stats = Enumerable.Range(0, n).Select(_ => new ColumnStats()).ToArray();
        var tally = new LabelTally();
        var rows = 0;
        var blankLabels = 0;
        while (reader.Read())
        {
            rows++;
            for (var c = 0; c < n; c++)
            {
                stats[c].Add(reader.Current[c]);
            }
            if (reader.Current[labelIndex] is { } l && !ValueParser.IsMissingMarker(l))
            {
                tally.Add(l);
            }
            else
            {
                blankLabels++;
            }
        }
        var counts = tally.Counts;
        IReadOnlyDictionary<string, bool> classes;
        try
        {
            classes = rule.Resolve(counts, path);
        }
        catch (InvalidDataException ex)
        {
            // The label values given do not fit the file: the proposed schema is what is wrong.
            throw new SchemaException(ex.Message);
        }
        var positives = counts.Where(c => classes[c.Key]).Sum(c => c.Value);
        var negatives = counts.Where(c => !classes[c.Key]).ToList();

        var notes = new List<string>();
        var features = new List<FeatureSpec>();
        for (var c = 0; c < n; c++)
        {
            var name = reader.Header[c];
            if (name == labelColumn || name == idColumn || dropped.Contains(name))
            {
                continue;
            }
            var s = stats[c];
            if (s.NonBlank == 0)
            {
                dropped.Add(name);
                notes.Add($"'{name}' dropped: every cell is blank.");
                continue;
            }
            if (s.AllUnique(rows) && (s.AllIntegers || !s.AllNumbers))
            {
                if (idColumn is null && !s.AllNumbers)
                {
                    idColumn = name;
                    notes.Add($"'{name}' taken as the id column: every value is distinct text.");
                }
                else if (idColumn is null && s.AllDigits && NamesAnIdentifier(name))
                {
                    idColumn = name;
                    notes.Add($"'{name}' taken as the id column: every value is distinct and its name says it identifies customers; " +
                        "its values are kept as text, leading zeros included.");
                }
                else
                {
                    dropped.Add(name);
                    notes.Add($"'{name}' dropped: every value is distinct, so it identifies rows rather than describing customers.");
                }
                continue;
            }
            FeatureKind kind;
            if (s.AllBooleans)
            {
                kind = FeatureKind.Boolean;
            }
            else if (s.AllNumbers)
            {
                kind = FeatureKind.Numeric;
            }
            else if (s.Distinct.Count > MaxCategories && s.Distinct.Count > rows / 20)
            {
                dropped.Add(name);
                notes.Add($"'{name}' dropped: {s.Distinct.Count} distinct text values look like free text, not categories.");
                continue;
            }
            else
            {
                kind = FeatureKind.Categorical;
                if (s.NumbersSeen > 0)
                {
                    notes.Add($"'{name}' is categorical: {s.NonBlank - s.NumbersSeen} of {s.NonBlank} values are not numbers.");
                }
            }
            if (s.Blank > 0)
            {
                notes.Add($"'{name}' has {s.Blank} blank cells, read as missing.");
            }
            features.Add(new FeatureSpec(name, kind));
        }
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{rows} rows; label '{labelColumn}': {positives:N0} churned ({100.0 * positives / Math.Max(1, rows):F1} %) as {Spellings(counts.Where(c => classes[c.Key]))}; " +
            $"{negatives.Sum(c => c.Value):N0} stayed as {(negatives.Count == 0 ? "(none)" : Spellings(negatives))}."));
        if (!reader.Dialect.IsPlain)
        {
            notes.Add($"the file is read as {reader.Dialect.Describe()} ({(dialect is null ? "detected from its header line" : "as given")}); " +
                "--delimiter and --decimal set it otherwise.");
        }
        if (blankLabels > 0)
        {
            notes.Add($"{blankLabels} rows have a blank label; training refuses them until they are filled or removed.");
        }
        var schema = new DatasetSchema
        {
            IdColumn = idColumn,
            LabelColumn = labelColumn,
            PositiveLabels = positiveLabels,
            // With no negative value given, the one other class is written down, so the schema says what "stayed" is.
            NegativeLabels = negativeLabels is { Count: > 0 } given ? given : [.. negatives.OrderByDescending(c => c.Value).Take(1).Select(c => c.Key)],
            Features = features,
            Drop = [.. reader.Header.Where(dropped.Contains)],
            Csv = dialect is { Delimiter: null, Decimal: null } ? null : dialect,
        };
        return new InferredSchema(schema, notes);
    }

    // Words that say a column identifies a customer or account. Short ones must be a whole word of the name
    // ("no" in "CustomerNo", not in "Phone"); long ones may be part of one ("CLIENTNUM").
    private static readonly string[] IdWords = ["id", "ids", "no", "nr", "num", "number", "key", "code"];
    private static readonly string[] IdStems = ["customer", "cust", "account", "acct", "client", "member", "user", "subscriber", "msisdn", "contract"];
    private static readonly string[] RunningWords = ["row", "index", "idx", "line", "seq", "sequence", "unnamed"];

    /// <summary>Whether a column name says it identifies customers (CustomerId, customer_id, CLIENTNUM, account no), not rows (RowNumber, index).</summary>
    internal static bool NamesAnIdentifier(string name)
    {
        var words = Words(name);
        if (words.Count == 0 || words.Any(w => RunningWords.Contains(w)))
        {
            return false;
        }
        return words.Any(w => IdWords.Contains(w) || IdStems.Any(stem => w.Contains(stem, StringComparison.Ordinal)));
    }

    // Splits camelCase, PascalCase, snake_case, kebab-case and spaced names into lower-case words: "customerID" -> customer, id.
    private static List<string> Words(string name)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!char.IsLetterOrDigit(c))
            {
                Flush();
                continue;
            }
            var boundary = current.Length > 0 && char.IsUpper(c)
                && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
            if (boundary || (current.Length > 0 && char.IsDigit(c) != char.IsDigit(name[i - 1])))
            {
                Flush();
            }
            current.Append(char.ToLowerInvariant(c));
        }
        Flush();
        return words;

        void Flush()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
    }

    private static string Spellings(IEnumerable<KeyValuePair<string, int>> values) =>
        string.Join(", ", values.OrderByDescending(v => v.Value).Take(10).Select(v => string.Create(CultureInfo.InvariantCulture, $"'{v.Key}' ({v.Value:N0})")));

    private sealed class ColumnStats
    {
        // Distinct values are tracked up to a cap: beyond it the column is free text or an identifier either way.
        private const int DistinctCap = 200_000;

        public HashSet<string> Distinct { get; } = new(StringComparer.Ordinal);
        public int NonBlank { get; private set; }
        public int Blank { get; private set; }
        public int NumbersSeen { get; private set; }
        public bool AllNumbers { get; private set; } = true;
        public bool AllIntegers { get; private set; } = true;
        public bool AllBooleans { get; private set; } = true;

        /// <summary>Every value is a string of ASCII digits (so an id written 00042 keeps its zeros as text).</summary>
        public bool AllDigits { get; private set; } = true;

        private bool _overflow;

        public void Add(string? cell)
        {
            if (cell is null || ValueParser.IsMissingMarker(cell))
            {
                Blank++;
                return;
            }
            NonBlank++;
            var v = ValueParser.Canonical(cell);
            AllDigits &= v.Length > 0 && !v.AsSpan().ContainsAnyExceptInRange('0', '9');
            if (!_overflow)
            {
                Distinct.Add(v);
                _overflow = Distinct.Count > DistinctCap;
            }
            if (ValueParser.TryNumber(v, out var number))
            {
                NumbersSeen++;
                AllIntegers &= Math.Abs(number - Math.Round(number)) < 1e-12;
            }
            else
            {
                AllNumbers = false;
                AllIntegers = false;
            }
            AllBooleans &= ValueParser.IsBooleanWord(v);
        }

        public bool AllUnique(int rows) => !_overflow && Blank == 0 && Distinct.Count == rows && rows > 20;
    }
}
