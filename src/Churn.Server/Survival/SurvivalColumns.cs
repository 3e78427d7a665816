using System.Globalization;
using Churn.Core.Data;
using Churn.Core.Survival;

namespace Churn.Server.Survival;

/// <summary>
/// The survival columns of a scored file, when a survival champion is served: P(churn within each horizon)
/// (<c>churnWithin_&lt;h&gt;</c>), the expected lifetime over the last horizon and the revenue at risk, as in the
/// <c>survival</c> object of <c>POST /predict</c>. One instance serves one file, so every row is read by the same
/// survival model version even if the champion moves meanwhile.
/// </summary>
public sealed class SurvivalColumns
{
    private readonly ServingSurvival serving;
    private readonly Func<string, int> columnIndex;

    private SurvivalColumns(ServingSurvival serving, Func<string, int> columnIndex)
    {
        this.serving = serving;
        this.columnIndex = columnIndex;
        Header = string.Concat(Names(serving.Model.Schema).Select(n => "," + n));
    }

    /// <summary>
    /// The columns for a file whose header <paramref name="columnIndex"/> reads (a column's position by name, −1 when
    /// absent); null when no survival champion is loaded. The covariates and the customer's time so far (the duration
    /// column) are taken from the file by name; a covariate the file lacks, or a cell that does not fit its kind, is missing.
    /// </summary>
    public static SurvivalColumns? For(SurvivalHost host, Func<string, int> columnIndex) =>
        host.Current is { } serving ? new SurvivalColumns(serving, columnIndex) : null;

    /// <summary>The column names, each preceded by a comma, to append to the header.</summary>
    public string Header { get; }

    /// <summary>The survival model version the file is scored with.</summary>
    public int Version => serving.Version;

    /// <summary>The column names: <c>churnWithin_&lt;h&gt;</c> per horizon, then <c>expectedLifetime</c> and <c>revenueAtRisk</c>.</summary>
    public static IEnumerable<string> Names(SurvivalSchema schema) =>
        [.. schema.Horizons.Select(h => "churnWithin_" + h.ToString(CultureInfo.InvariantCulture)), "expectedLifetime", "revenueAtRisk"];

    /// <summary>
    /// The cells of one row of the file (its raw cells in file order), each preceded by a comma: the values of the
    /// <c>survival</c> object <see cref="SurvivalHost.Forecast"/> gives, conditional on the time so far when the file has
    /// the duration column. Any row gets them, even one the classifier could not score. Safe to call from several
    /// threads at once: a file's batches are scored in parallel.
    /// </summary>
    public string Cells(IReadOnlyList<string?> cells)
    {
        var values = new FeatureValue[cells.Count];
        FeatureValue[][] row = [values];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = FeatureValue.Of(cells[c]);
        }
        var (covariates, elapsed) = SurvivalInputs.FromRows(serving.Model.Schema, columnIndex, row);
        var outlook = SurvivalResponse.From(serving, serving.Model.Forecast(covariates, elapsed)[0]);
        return string.Concat(outlook.Horizons.Select(h => "," + Number(h.Probability))) + "," + Number(outlook.ExpectedLifetime) + "," +
            (outlook.RevenueAtRisk is { } revenue ? Number(revenue) : "");
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
