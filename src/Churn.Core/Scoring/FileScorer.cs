using System.Text;
using Churn.Core.Models;

namespace Churn.Core.Scoring;

/// <summary>What a file scoring did.</summary>
public sealed record FileScoringSummary(long Rows, long Scored, long RowErrors, long UnseenCategoryRows, double MeanProbability, long AtRisk);

/// <summary>
/// Scores a CSV of any size in chunks through the bulk path, writing one output row per input row in
/// input order. A row whose value does not fit the schema is written with an error naming the column
/// and line instead of a probability, so nothing is dropped and the rest of the file still scores.
/// </summary>
public static class FileScorer
{
    /// <summary>Header of the result file.</summary>
    public static readonly string[] OutputHeader = ["line", "customer_id", "churn_probability", "will_churn", "risk_tier", "unseen_categories", "error"];

    /// <summary>Prefix of the contribution columns written with <c>contributions</c>: <c>shap_base</c>, then <c>shap_&lt;feature&gt;</c> per feature.</summary>
    public const string ContributionPrefix = "shap_";

    /// <summary>
    /// Scores every row of <paramref name="reader"/> into <paramref name="output"/>. With <paramref name="contributions"/>,
    /// each row also gets the base value and one exact SHAP value per feature (<see cref="ChurnModel.Explain"/>), in the
    /// model's <see cref="ChurnModel.ContributionUnit"/>; a row that cannot be explained leaves them empty.
    /// </summary>
    /// <exception cref="CsvFormatException">The header lacks a feature column.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="contributions"/> was asked of a model that cannot explain.</exception>
    public static FileScoringSummary Score(ChurnModel model, CsvReader reader, TextWriter output, IProgress<long>? progress = null, int chunkRows = 8192, CancellationToken ct = default, bool contributions = false)
    {
        if (contributions && !model.CanExplain)
        {
            throw new InvalidOperationException("This model cannot give contributions (its package has no tree covers or its shape does not compile); retrain it.");
        }
        var schema = model.Card.Schema;
        var featureIndex = reader.RequireFeatureColumns(schema, "which the model needs");
        var idIndex = schema.IdColumn is { } id ? reader.ColumnIndex(id) : -1;
        var encoder = model.Encoder;
        var width = encoder.Width;
        var matrix = new float[chunkRows * width];
        var values = new FeatureValue[featureIndex.Length];
        var pending = new List<PendingRow>(chunkRows);
        long rows = 0, errors = 0, unseenRows = 0, atRisk = 0;
        double sum = 0;
        output.Write(string.Join(',', OutputHeader));
        if (contributions)
        {
            output.Write(',');
            output.Write(string.Join(',', ContributionHeader(model).Select(CsvText.Cell)));
        }
        output.Write('\n');
        var phi = contributions ? new double[schema.Features.Count] : [];
        var baseValue = model.BaseValue ?? 0;

        void Flush()
        {
            var scored = pending.Count(p => p.Error is null);
            var slot = 0;
            var compact = new float[scored * width];
            foreach (var p in pending)
            {
                if (p.Error is null)
                {
                    matrix.AsSpan(p.Slot * width, width).CopyTo(compact.AsSpan(slot++ * width, width));
                }
            }
            var probabilities = scored > 0 ? model.ScoreMatrix(compact, scored) : [];
            var next = 0;
            var line = new StringBuilder();
            foreach (var p in pending)
            {
                line.Clear();
                line.Append(p.Line.ToString(CultureInfo.InvariantCulture)).Append(',').Append(CsvText.Cell(p.Id)).Append(',');
                if (p.Error is null)
                {
                    var row = next++;
                    var probability = probabilities[row];
                    sum += probability;
                    var churn = probability >= model.Card.Threshold;
                    atRisk += churn ? 1 : 0;
                    line.Append(probability.ToString("0.######", CultureInfo.InvariantCulture)).Append(',')
                        .Append(churn ? "true" : "false").Append(',').Append(model.Card.Tiers.Of(probability)).Append(',')
                        .Append(CsvText.Cell(p.Unseen)).Append(',');
                    if (contributions)
                    {
                        var explained = model.Explain(compact.AsSpan(row * width, width), phi);
                        line.Append(',');
                        if (explained)
                        {
                            line.Append(baseValue.ToString("R", CultureInfo.InvariantCulture));
                        }
                        foreach (var value in phi)
                        {
                            line.Append(',');
                            if (explained)
                            {
                                line.Append(value.ToString("R", CultureInfo.InvariantCulture));
                            }
                        }
                    }
                }
                else
                {
                    line.Append(",,,,").Append(CsvText.Cell(p.Error));
                    if (contributions)
                    {
                        line.Append(',', phi.Length + 1);
                    }
                }
                line.Append('\n');
                output.Write(line);
            }
            pending.Clear();
        }

        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            rows++;
            var cells = reader.Current;
            for (var f = 0; f < featureIndex.Length; f++)
            {
                values[f] = FeatureValue.Of(cells[featureIndex[f]]);
            }
            var slot = pending.Count;
            var outcome = encoder.Encode(values, matrix.AsSpan(slot * width, width));
            string? error = null;
            string? unseen = null;
            if (outcome.HasError)
            {
                var name = schema.Features[outcome.ErrorFeature].Name;
                error = $"line {reader.RecordLine}, column {featureIndex[outcome.ErrorFeature] + 1} ('{name}'): {outcome.FirstError}";
                errors++;
            }
            else if (outcome.UnseenMask != 0)
            {
                unseenRows++;
                unseen = string.Join(';', Enumerable.Range(0, Math.Min(63, featureIndex.Length)).Where(f => (outcome.UnseenMask & (1L << f)) != 0).Select(f => schema.Features[f].Name));
            }
            pending.Add(new PendingRow(reader.RecordLine, idIndex >= 0 ? cells[idIndex] : null, slot, error, unseen));
            if (pending.Count == chunkRows)
            {
                Flush();
                progress?.Report(rows);
            }
        }
        Flush();
        progress?.Report(rows);
        var scoredRows = rows - errors;
        return new FileScoringSummary(rows, scoredRows, errors, unseenRows, scoredRows == 0 ? 0 : sum / scoredRows, atRisk);
    }

    /// <summary>The contribution columns' names: <c>shap_base</c>, then <c>shap_&lt;feature&gt;</c> in schema order.</summary>
    public static IEnumerable<string> ContributionHeader(ChurnModel model) =>
        model.Card.Schema.Features.Select(f => ContributionPrefix + f.Name).Prepend(ContributionPrefix + "base");

    private sealed record PendingRow(long Line, string? Id, int Slot, string? Error, string? Unseen);
}
