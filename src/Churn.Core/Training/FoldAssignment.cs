namespace Churn.Core.Training;

/// <summary>
/// A published fold assignment, as benchmark protocols ship them so that every tool scores the same held-out rows: a CSV
/// with the columns <c>row</c> (the 0-based data row of the data file, its header not counted) and <c>fold</c>.
/// </summary>
public static class FoldAssignment
{
    /// <summary>Reads the fold of every listed row.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A column is missing, or the file lists no rows.</exception>
    /// <exception cref="CsvFormatException">A cell is not a whole number of at least 0, or a row is listed twice (names the line and column).</exception>
    public static IReadOnlyDictionary<int, int> Read(string path)
    {
        using var csv = CsvReader.Open(path);
        var row = csv.ColumnIndex("row");
        var fold = csv.ColumnIndex("fold");
        if (row < 0 || fold < 0)
        {
            throw new InvalidDataException($"{path}: {csv.MissingColumn(row < 0 ? "row" : "fold", "which a fold assignment needs")}");
        }
        var folds = new Dictionary<int, int>();
        while (csv.Read())
        {
            var r = WholeNumber(csv, row, path);
            if (!folds.TryAdd(r, WholeNumber(csv, fold, path)))
            {
                throw new CsvFormatException(path, csv.RecordLine, row + 1, $"row {r} is listed twice.");
            }
        }
        return folds.Count > 0 ? folds : throw new InvalidDataException($"{path}: the fold assignment lists no rows.");
    }

    private static int WholeNumber(CsvReader csv, int column, string path) =>
        int.TryParse(csv.Current[column], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new CsvFormatException(path, csv.RecordLine, column + 1, $"'{csv.Current[column]}' in '{csv.Header[column]}' is not a whole number of at least 0.");
}
