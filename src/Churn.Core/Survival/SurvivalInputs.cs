namespace Churn.Core.Survival;

/// <summary>
/// Turns customers already read through another schema (the classifier's, as the API validates a request) into the
/// covariates a survival model reads, by column name, and picks out their time so far from the duration column.
/// </summary>
public static class SurvivalInputs
{
    /// <summary>
    /// The covariates of <paramref name="schema"/> taken by name from rows in <paramref name="source"/> order; a covariate
    /// the source does not have, or a value that does not fit its kind, is missing. Also each row's elapsed time: the
    /// value of the duration column when the source has it, else NaN.
    /// </summary>
    public static (Dataset Covariates, double[] Elapsed) FromRows(SurvivalSchema schema, DatasetSchema source, IReadOnlyList<FeatureValue[]> rows) =>
        FromRows(schema, source.IndexOf, rows);

    /// <summary>
    /// The same for rows of any shape (such as the cells of an uploaded CSV file): <paramref name="columnIndex"/> gives the
    /// position of a column in a row by name, or −1 when the rows do not have it.
    /// </summary>
    public static (Dataset Covariates, double[] Elapsed) FromRows(SurvivalSchema schema, Func<string, int> columnIndex, IReadOnlyList<FeatureValue[]> rows)
    {
        var features = schema.Data.Features;
        var columns = features.Select(f => new FeatureColumn(f, rows.Count)).ToArray();
        var from = features.Select(f => columnIndex(f.Name)).ToArray();
        var durationIndex = columnIndex(schema.DurationColumn);
        var elapsed = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var f = 0; f < columns.Length; f++)
            {
                var value = from[f] >= 0 ? rows[r][from[f]] : FeatureValue.Missing;
                var column = columns[f];
                if (column.Categories is { } categories)
                {
                    categories[r] = value.IsMissing ? null : ValueParser.Canonical(value.ToString());
                }
                else
                {
                    column.Numbers![r] = ValueParser.TryNumberOf(column.Spec.Kind, value, out var number) ? number : double.NaN;
                }
            }
            elapsed[r] = durationIndex >= 0 && ValueParser.TryNumber(rows[r][durationIndex], out var t) ? t : double.NaN;
        }
        return (new Dataset(schema.Data, columns, new string?[rows.Count], null, new long[rows.Count], "request"), elapsed);
    }
}
