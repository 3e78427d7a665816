using System.Globalization;
using System.Threading.Channels;
using Churn.Core.Data;
using Churn.Core.Scoring;
using Churn.Server.Models;

namespace Churn.Server.Jobs;

/// <summary>An uploaded CSV waiting to be scored; with <paramref name="Contributions"/>, each row also gets its exact SHAP values.</summary>
public sealed record ScoringOrder(Guid JobId, string InputFile, string ResultFile, bool Contributions = false);

/// <summary>
/// Scores uploaded CSV files of any size in constant memory: rows stream from the upload through the scorer into
/// the result file. A row whose values do not fit is reported in the result's error column; the rest are scored.
/// </summary>
public sealed class ScoringJob(ModelHost host, JobBoard board, RuntimeSettings settings, IOptions<ServerOptions> options, ILogger<ScoringJob> log) : BackgroundService
{
    public const string EmptyUpload = "The upload is empty.";
    public const string QueueFull = "Too many scoring jobs are queued.";

    private readonly Channel<ScoringOrder> orders = Channel.CreateBounded<ScoringOrder>(64);

    public bool TryEnqueue(ScoringOrder order) => orders.Writer.TryWrite(order);

    /// <summary>
    /// Streams an uploaded CSV to the job's folder and queues it (the API's upload and the dashboard's both come here).
    /// Returns the job; <c>Error</c> is <see cref="EmptyUpload"/> or <see cref="QueueFull"/> when it was refused.
    /// </summary>
    public async Task<(JobState Job, string? Error)> SubmitAsync(Stream upload, string createdBy, CancellationToken ct, bool contributions = false)
    {
        var job = board.Create("score", createdBy);
        var dir = Path.Combine(options.Value.DataDir, "jobs", job.Id.ToString("N"));
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "input.csv");
        await using (upload)
        await using (var target = new FileStream(input, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            // Streamed to disk as it arrives: an upload of any size takes constant memory.
            await upload.CopyToAsync(target, ct);
        }
        var refusal = new FileInfo(input).Length == 0 ? EmptyUpload
            : !TryEnqueue(new ScoringOrder(job.Id, input, Path.Combine(dir, "result.csv"), contributions)) ? QueueFull
            : null;
        if (refusal is not null)
        {
            board.Fail(job.Id, refusal);
            File.Delete(input);
        }
        return (board.Get(job.Id) ?? job, refusal);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var order in orders.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                board.Start(order.JobId);
                var (rows, failed, version) = await Task.Run(() => Score(order, stoppingToken), stoppingToken);
                board.Succeed(order.JobId, $"Scored {rows} rows with v{version}{(failed > 0 ? $"; {failed} rows could not be scored (see the error column)" : "")}.", version, order.ResultFile);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A bad file fails its own job and nothing else.
                log.LogWarning(ex, "Scoring job {Job} failed.", order.JobId);
                board.Fail(order.JobId, ex.Message);
            }
            finally
            {
                File.Delete(order.InputFile);
            }
        }
    }

    private (long Rows, long Failed, int Version) Score(ScoringOrder order, CancellationToken ct)
    {
        var model = host.Require();
        var schema = model.Schema;
        using var input = new FileStream(order.InputFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var length = Math.Max(1, input.Length);
        using var reader = new CsvReader(new StreamReader(input, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true), "upload");
        var columns = schema.Features.Select(f => reader.ColumnIndex(f.Name)).ToArray();
        var missing = schema.Features.Where((f, i) => columns[i] < 0).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"The CSV header lacks the feature column(s) {string.Join(", ", missing)}.");
        }
        var idColumn = schema.IdColumn is { } id ? reader.ColumnIndex(id) : -1;
        var temp = order.ResultFile + ".tmp";
        long rows = 0, failed = 0;
        var report = Math.Max(1, settings.Model.BatchSize);
        var explain = order.Contributions && model.Scorer.Model.CanExplain;
        var positions = schema.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var contributions = new double[schema.Features.Count];
        using (var writer = new StreamWriter(temp))
        {
            writer.Write("row,customerId,churnProbability,willChurn,riskTier,unseenCategories,error");
            if (order.Contributions)
            {
                // One column per feature, named as in `churn predict --contributions`; empty when a row cannot be explained.
                writer.Write(',');
                writer.Write(string.Join(',', FileScorer.ContributionHeader(model.Scorer.Model).Select(Cell)));
            }
            writer.Write('\n');
            var values = new FeatureValue[columns.Length];
            while (reader.Read())
            {
                ct.ThrowIfCancellationRequested();
                for (var f = 0; f < columns.Length; f++)
                {
                    values[f] = FeatureValue.Of(reader.Current[columns[f]]);
                }
                var customer = idColumn >= 0 ? reader.Current[idColumn] : null;
                rows++;
                try
                {
                    var result = model.Scorer.Score(values, reasons: explain ? Predictions.Predictor.AllReasons : 0);
                    writer.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{rows},{Cell(customer)},{result.Probability:R},{(result.WillChurn ? "true" : "false")},{result.RiskTier},{Cell(string.Join(';', result.UnseenCategories))},"));
                    if (order.Contributions)
                    {
                        Array.Clear(contributions);
                        foreach (var reason in result.Reasons)
                        {
                            contributions[positions[reason.Feature]] = reason.Contribution;
                        }
                        writer.Write(result.BaseValue is { } baseValue
                            ? string.Create(CultureInfo.InvariantCulture, $",{baseValue:R},{string.Join(',', contributions.Select(c => c.ToString("R", CultureInfo.InvariantCulture)))}")
                            : new string(',', contributions.Length + 1));
                    }
                    writer.Write('\n');
                }
                catch (FeatureValueException ex)
                {
                    failed++;
                    writer.Write(string.Create(CultureInfo.InvariantCulture, $"{rows},{Cell(customer)},,,,,{Cell(ex.Message)}"));
                    writer.Write(order.Contributions ? new string(',', contributions.Length + 1) + "\n" : "\n");
                }
                if (rows % report == 0)
                {
                    board.Progress(order.JobId, (double)input.Position / length, rows);
                }
            }
        }
        File.Move(temp, order.ResultFile, overwrite: true);
        return (rows, failed, model.Version);
    }

    private static string Cell(string? text) =>
        string.IsNullOrEmpty(text) ? "" : text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
}
