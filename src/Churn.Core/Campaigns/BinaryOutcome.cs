namespace Churn.Core.Campaigns;

/// <summary>
/// The rule that turns an outcome column into yes/no: it must hold exactly two distinct values. Boolean words
/// (yes/no, true/false, 1/0, …) need no help; any other pair needs the positive value named.
/// </summary>
public static class BinaryOutcome
{
    /// <summary>Chooses the positive value of an outcome column from its distinct (trimmed, non-blank) values.</summary>
    /// <param name="distinct">The column's distinct values.</param>
    /// <param name="column">The column's name, for messages.</param>
    /// <param name="positive">The positive value when the caller names one; otherwise it is read from boolean words.</param>
    /// <returns>The positive value as written in the data (or <paramref name="positive"/> when it does not occur).</returns>
    /// <exception cref="InvalidDataException">
    /// The column has fewer or more than two values, the named positive value is not one of two, or the two values
    /// are not boolean words and no positive value is named.
    /// </exception>
    public static string ChoosePositive(IReadOnlyCollection<string> distinct, string column, string? positive)
    {
        var listed = string.Join(", ", distinct.Order(StringComparer.Ordinal).Take(6).Select(v => $"'{v}'")) + (distinct.Count > 6 ? ", …" : "");
        if (distinct.Count != 2)
        {
            throw new InvalidDataException(distinct.Count < 2
                ? $"The outcome column '{column}' has {(distinct.Count == 0 ? "no values" : $"one value only ({listed})")}; an outcome needs two."
                : $"The outcome column '{column}' has more than two values ({listed}); an outcome needs exactly two.");
        }
        if (positive is not null)
        {
            return distinct.FirstOrDefault(v => string.Equals(v, positive.Trim(), StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidDataException($"The positive outcome '{positive}' is not one of the outcome column '{column}' values ({listed}).");
        }
        var ones = distinct.Where(v => ValueParser.TryBoolean(v, out var b) && b == 1).ToList();
        var zeros = distinct.Where(v => ValueParser.TryBoolean(v, out var b) && b == 0).ToList();
        if (ones.Count != 1 || zeros.Count != 1)
        {
            throw new InvalidDataException($"The outcome column '{column}' has values {listed}, which are not a yes/no pair; name the positive value.");
        }
        return ones[0];
    }
}

/// <summary>Reads a finished experiment from a CSV file: one unit per row, with its arm, outcome and optional segment.</summary>
public static class ExperimentFile
{
    /// <summary>Reads every row's arm, outcome and segment.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="armColumn">The column naming each row's arm.</param>
    /// <param name="outcomeColumn">The binary outcome column (see <see cref="BinaryOutcome"/>).</param>
    /// <param name="segmentColumn">An optional column to break the read-out down by; blank cells read as "(blank)".</param>
    /// <param name="positive">The positive outcome value when it is not a boolean word.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvFormatException">The file is malformed, or a row's arm or outcome is blank (names the line and column).</exception>
    /// <exception cref="InvalidDataException">A named column is absent, or the outcome is not binary.</exception>
    public static IReadOnlyList<ArmOutcome> Read(string path, string armColumn, string outcomeColumn, string? segmentColumn = null, string? positive = null) =>
        Read(path, armColumn, outcomeColumn, segmentColumn, positive, out _);

    /// <summary>Reads every row's arm, outcome and segment, and says which value of the outcome column was taken as positive.</summary>
    /// <inheritdoc cref="Read(string, string, string, string?, string?)" path="/param"/>
    /// <param name="positiveValue">The positive outcome value as written in the file.</param>
    public static IReadOnlyList<ArmOutcome> Read(string path, string armColumn, string outcomeColumn, string? segmentColumn, string? positive, out string positiveValue)
    {
        using var csv = CsvReader.Open(path);
        var arm = Require(csv, armColumn, "arm");
        var outcome = Require(csv, outcomeColumn, "outcome");
        var segment = segmentColumn is null ? -1 : Require(csv, segmentColumn, "segment");
        var rows = new List<(string Arm, string Outcome, string? Segment)>();
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        while (csv.Read())
        {
            var a = csv.Current[arm]?.Trim() ?? throw new CsvFormatException(path, csv.RecordLine, arm + 1, $"the arm ('{armColumn}') is blank.");
            var o = csv.Current[outcome]?.Trim() ?? throw new CsvFormatException(path, csv.RecordLine, outcome + 1, $"the outcome ('{outcomeColumn}') is blank.");
            // Past two values the column is not binary; stop collecting so a numeric column does not fill memory.
            if (distinct.Count <= 2)
            {
                distinct.Add(o);
            }
            rows.Add((a, o, segment < 0 ? null : csv.Current[segment]?.Trim() ?? "(blank)"));
        }
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{path}: the file has a header but no rows.");
        }
        var yes = positiveValue = BinaryOutcome.ChoosePositive(distinct, outcomeColumn, positive);
        return [.. rows.Select(r => new ArmOutcome(r.Arm, string.Equals(r.Outcome, yes, StringComparison.Ordinal), r.Segment))];
    }

    private static int Require(CsvReader csv, string column, string role)
    {
        var index = csv.ColumnIndex(column);
        return index >= 0 ? index
            : throw new InvalidDataException($"{csv.SourceName}: there is no {role} column '{column}'; the columns are {string.Join(", ", csv.Header)}.");
    }
}
