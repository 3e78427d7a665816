using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading.Channels;
using Churn.Core.Data;
using Churn.Core.Scoring;
using Churn.Server.Models;
using Churn.Server.Survival;

namespace Churn.Server.Jobs;

/// <summary>
/// An uploaded CSV waiting to be scored; with <paramref name="Contributions"/>, each row also gets its exact SHAP values.
/// <paramref name="Upload"/> is set while the file is still arriving: scoring then reads it as it is written.
/// </summary>
public sealed record ScoringOrder(Guid JobId, string InputFile, string ResultFile, bool Contributions = false, ArrivingFile? Upload = null);

/// <summary>
/// Scores uploaded CSV files of any size in constant memory: rows stream from the upload through the scorer into
/// the result file, while the upload is still arriving. One thread parses the CSV into batches of
/// <see cref="BatchRows"/> rows, the batches are scored on every core, and the results are written in input order.
/// A row whose values do not fit is reported in the result's error column; the rest are scored.
/// </summary>
public sealed class ScoringJob(ModelHost host, SurvivalHost survivalHost, JobBoard board, RuntimeSettings settings, IOptions<ServerOptions> options, ILogger<ScoringJob> log) : BackgroundService
{
    public const string EmptyUpload = "The upload is empty.";
    public const string QueueFull = "Too many scoring jobs are queued.";

    /// <summary>Rows per scored batch: enough to make the hand-over between threads cheap, few enough to keep memory flat.</summary>
    public const int BatchRows = 1024;

    private readonly Channel<ScoringOrder> orders = Channel.CreateBounded<ScoringOrder>(64);

    public bool TryEnqueue(ScoringOrder order) => orders.Writer.TryWrite(order);

    /// <summary>
    /// Streams an uploaded CSV to the job's folder and queues it as soon as its first bytes are on disk, so scoring
    /// runs while the rest arrives (the API's upload and the dashboard's both come here). Returns the job once the
    /// upload is complete; <c>Error</c> is <see cref="EmptyUpload"/> or <see cref="QueueFull"/> when it was refused.
    /// An upload that breaks off fails its job and rethrows.
    /// </summary>
    public async Task<(JobState Job, string? Error)> SubmitAsync(Stream upload, string createdBy, CancellationToken ct, bool contributions = false)
    {
        var job = board.Create("score", createdBy);
        var dir = Path.Combine(options.Value.DataDir, "jobs", job.Id.ToString("N"));
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "input.csv");
        var arriving = new ArrivingFile(input);
        string? refusal = null;
        var queued = false;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            await using (upload)
            // Unbuffered, so each chunk is on disk for the scorer as soon as it is written; the upload is read in large chunks.
            await using (var target = new FileStream(input, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0, useAsync: true))
            {
                var read = await upload.ReadAsync(buffer, ct);
                if (read == 0)
                {
                    refusal = EmptyUpload;
                }
                else
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                    queued = TryEnqueue(new ScoringOrder(job.Id, input, Path.Combine(dir, "result.csv"), contributions, arriving));
                    refusal = queued ? null : QueueFull;
                    // An upload of any size takes constant memory: it goes to disk chunk by chunk as it arrives.
                    while (queued && !arriving.Abandoned && (read = await upload.ReadAsync(buffer, ct)) > 0)
                    {
                        await target.WriteAsync(buffer.AsMemory(0, read), ct);
                        arriving.Grew();
                    }
                }
            }
            arriving.Finish();
        }
        catch (Exception ex)
        {
            // A queued job learns of it when its reader reaches the break; one not queued yet is failed here.
            arriving.Fail(ex);
            if (!queued)
            {
                board.Fail(job.Id, $"The upload did not complete: {ex.Message}");
                File.Delete(input);
            }
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (refusal is not null)
        {
            board.Fail(job.Id, refusal);
            File.Delete(input);
        }
        return (board.Get(job.Id) ?? job, refusal);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // REVIEW: jobs run one at a time, each on every core; a slow upload holds the queue while it trickles in.
        await foreach (var order in orders.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                board.Start(order.JobId);
                var (rows, failed, version) = await Task.Run(() => ScoreAsync(order, stoppingToken), stoppingToken);
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
                order.Upload?.Abandon();
                File.Delete(order.InputFile);
            }
        }
    }

    private async Task<(long Rows, long Failed, int Version)> ScoreAsync(ScoringOrder order, CancellationToken ct)
    {
        var model = host.Require();
        var schema = model.Schema;
        await using var input = order.Upload?.OpenRead(ct) ?? new FileStream(order.InputFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new CsvReader(new StreamReader(input, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true), "upload");
        var columns = schema.Features.Select(f => reader.ColumnIndex(f.Name)).ToArray();
        var missing = schema.Features.Where((f, i) => columns[i] < 0).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"The CSV header lacks the feature column(s) {string.Join(", ", missing)}.");
        }
        var idColumn = schema.IdColumn is { } id ? reader.ColumnIndex(id) : -1;
        // With a survival champion, every row also gets its horizon probabilities, expected lifetime and revenue at risk.
        var layout = new ResultLayout(model, order.Contributions, SurvivalColumns.For(survivalHost, reader.ColumnIndex));
        var temp = order.ResultFile + ".tmp";
        (long Rows, long Failed) written;
        try
        {
            written = await ScoreIntoAsync(order, reader, columns, idColumn, layout, input, temp, ct);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        File.Move(temp, order.ResultFile, overwrite: true);
        return (written.Rows, written.Failed, model.Version);
    }

    /// <summary>The pipeline: this thread parses rows into batches, the thread pool scores them, one writer writes them in order.</summary>
    private async Task<(long Rows, long Failed)> ScoreIntoAsync(ScoringOrder order, CsvReader reader, int[] columns, int idColumn, ResultLayout layout, Stream input, string temp, CancellationToken ct)
    {
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(ct))
        await using (var output = new StreamWriter(new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), new UTF8Encoding(false), 1 << 16))
        {
            output.Write(layout.Header);
            // Batches in input order, each already being scored: the bound keeps memory flat and lets every core work.
            var batches = Channel.CreateBounded<Task<ScoredBatch>>(new BoundedChannelOptions(2 * Math.Max(2, Environment.ProcessorCount)) { SingleReader = true, SingleWriter = true });
            var writing = Task.Run(() => WriteAsync(order, batches.Reader, output, input, stop), CancellationToken.None);
            Exception? readFailure = null;
            try
            {
                long rows = 0;
                var batch = new RowBatch(columns.Length, 1);
                while (reader.Read())
                {
                    stop.Token.ThrowIfCancellationRequested();
                    var values = batch.Values.AsSpan(batch.Count * columns.Length, columns.Length);
                    for (var f = 0; f < columns.Length; f++)
                    {
                        values[f] = FeatureValue.Of(reader.Current[columns[f]]);
                    }
                    if (layout.NeedsCells)
                    {
                        batch.Cells[batch.Count] = [.. reader.Current];
                    }
                    batch.Customers[batch.Count++] = idColumn >= 0 ? reader.Current[idColumn] : null;
                    rows++;
                    if (batch.Count == BatchRows)
                    {
                        var full = batch;
                        full.EndPosition = input.Position;
                        await batches.Writer.WriteAsync(Task.Run(() => layout.Score(full), stop.Token), stop.Token);
                        batch = new RowBatch(columns.Length, rows + 1);
                    }
                }
                if (batch.Count > 0)
                {
                    var last = batch;
                    last.EndPosition = input.Position;
                    await batches.Writer.WriteAsync(Task.Run(() => layout.Score(last), stop.Token), stop.Token);
                }
            }
            catch (Exception ex)
            {
                readFailure = ex;
                await stop.CancelAsync();
            }
            finally
            {
                batches.Writer.TryComplete();
            }
            if (readFailure is not null)
            {
                try
                {
                    await writing;
                }
                catch (Exception writeFailure) when (readFailure is OperationCanceledException && !ct.IsCancellationRequested)
                {
                    // The writer failed first (the disk, or a scoring fault) and stopped the reader: its error is the job's.
                    ExceptionDispatchInfo.Throw(writeFailure);
                }
                catch (Exception)
                {
                    // The writer stopped because reading did; the reader's error is the job's.
                }
                ExceptionDispatchInfo.Throw(readFailure);
            }
            return await writing;
        }
    }

    /// <summary>Writes scored batches in input order as each is ready, reporting progress; stops the reader if it fails.</summary>
    private async Task<(long Rows, long Failed)> WriteAsync(ScoringOrder order, ChannelReader<Task<ScoredBatch>> batches, StreamWriter output, Stream input, CancellationTokenSource stop)
    {
        try
        {
            long rows = 0, failed = 0;
            var report = Math.Max(1, settings.Model.BatchSize);
            var length = order.Upload is null ? Math.Max(1, input.Length) : 0;
            await foreach (var pending in batches.ReadAllAsync(stop.Token))
            {
                var scored = await pending;
                output.Write(scored.Text);
                failed += scored.Failed;
                var before = rows;
                rows += scored.Rows;
                if (rows / report != before / report)
                {
                    // While the upload arrives its length is unknown: the row count moves, the fraction waits.
                    board.Progress(order.JobId, length > 0 ? (double)scored.EndPosition / length : 0, rows);
                }
            }
            return (rows, failed);
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }

    private static string Cell(string? text) =>
        string.IsNullOrEmpty(text) ? "" : text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;

    /// <summary>Up to <see cref="BatchRows"/> parsed rows: their feature values (schema order, row after row) and customer ids.</summary>
    private sealed class RowBatch(int features, long firstRow)
    {
        public FeatureValue[] Values { get; } = new FeatureValue[BatchRows * features];
        public string?[] Customers { get; } = new string?[BatchRows];

        /// <summary>Each row's raw cells in file order, kept only when the layout needs them (survival columns).</summary>
        public string?[][] Cells { get; } = new string?[BatchRows][];
        public int Count { get; set; }

        /// <summary>The 1-based number of the batch's first data row in the file.</summary>
        public long FirstRow { get; } = firstRow;

        /// <summary>How far into the upload (bytes) the reader was when the batch was full.</summary>
        public long EndPosition { get; set; }
    }

    /// <summary>A batch's result lines, ready to write.</summary>
    private sealed record ScoredBatch(StringBuilder Text, int Rows, int Failed, long EndPosition);

    /// <summary>The result file's columns, and each row's line in them.</summary>
    private sealed class ResultLayout
    {
        private readonly ServingModel model;
        private readonly bool contributions;
        private readonly bool explain;
        private readonly Dictionary<string, int> positions;
        private readonly SurvivalColumns? survival;

        public ResultLayout(ServingModel model, bool contributions, SurvivalColumns? survival)
        {
            this.model = model;
            this.contributions = contributions;
            this.survival = survival;
            explain = contributions && model.Scorer.Model.CanExplain;
            positions = model.Schema.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
            var header = new StringBuilder("row,customerId,churnProbability,willChurn,riskTier,unseenCategories,error");
            if (contributions)
            {
                // One column per feature, named as in `churn predict --contributions`; empty when a row cannot be explained.
                header.Append(',').AppendJoin(',', FileScorer.ContributionHeader(model.Scorer.Model).Select(Cell));
            }
            Header = header.Append(survival?.Header).Append('\n').ToString();
        }

        public string Header { get; }

        /// <summary>Whether a row's raw cells must travel with its batch (the survival columns read them by name).</summary>
        public bool NeedsCells => survival is not null;

        /// <summary>Scores a batch row by row with the serving scorer (as <c>/predict</c> does) into its result lines.</summary>
        public ScoredBatch Score(RowBatch batch)
        {
            var features = positions.Count;
            var text = new StringBuilder(batch.Count * (contributions ? 96 + 24 * features : 96));
            var phi = new double[features];
            var failed = 0;
            for (var r = 0; r < batch.Count; r++)
            {
                var row = batch.FirstRow + r;
                var customer = Cell(batch.Customers[r]);
                try
                {
                    var result = model.Scorer.Score(batch.Values.AsSpan(r * features, features), reasons: explain ? Predictions.Predictor.AllReasons : 0);
                    text.Append(CultureInfo.InvariantCulture,
                        $"{row},{customer},{result.Probability:R},{(result.WillChurn ? "true" : "false")},{result.RiskTier},{Cell(string.Join(';', result.UnseenCategories))},");
                    if (contributions)
                    {
                        AppendContributions(text, result, phi);
                    }
                }
                catch (FeatureValueException ex)
                {
                    failed++;
                    text.Append(CultureInfo.InvariantCulture, $"{row},{customer},,,,,{Cell(ex.Message)}");
                    text.Append(',', contributions ? features + 1 : 0);
                }
                if (survival is not null)
                {
                    text.Append(survival.Cells(batch.Cells[r]));
                }
                text.Append('\n');
            }
            return new ScoredBatch(text, batch.Count, failed, batch.EndPosition);
        }

        private void AppendContributions(StringBuilder text, ScoreResult result, double[] phi)
        {
            if (result.BaseValue is not { } baseValue)
            {
                text.Append(',', phi.Length + 1);
                return;
            }
            Array.Clear(phi);
            foreach (var reason in result.Reasons)
            {
                phi[positions[reason.Feature]] = reason.Contribution;
            }
            text.Append(CultureInfo.InvariantCulture, $",{baseValue:R}");
            foreach (var value in phi)
            {
                text.Append(CultureInfo.InvariantCulture, $",{value:R}");
            }
        }
    }
}
