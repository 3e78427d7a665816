using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
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
/// the result file, while the upload is still arriving. One thread cuts the upload into pieces of whole records
/// (<see cref="CsvPieces"/>, about <see cref="PieceBytes"/> each), the pieces are parsed and scored on every core, and
/// their lines are written in input order. A row whose values do not fit is reported in the result's error column;
/// the rest are scored.
/// </summary>
public sealed class ScoringJob(ModelHost host, SurvivalHost survivalHost, JobBoard board, RuntimeSettings settings, IOptions<ServerOptions> options, ILogger<ScoringJob> log) : BackgroundService
{
    /// <summary>
    /// Rows from which a finished job, with none waiting, is followed by <see cref="ProcessMemory.ReturnFreeMemory"/>: a file
    /// of this size has grown the heaps by megabytes, and one pause of a full collection per such job is small beside it.
    /// </summary>
    public const long ReturnMemoryFromRows = 100_000;

    public const string EmptyUpload = "The upload is empty.";
    public const string QueueFull = "Too many scoring jobs are queued.";

    /// <summary>Bytes of the upload per scored piece: enough to make the hand-over between threads cheap, few enough to keep memory flat.</summary>
    public const int PieceBytes = CsvPieces.DefaultPieceBytes;

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
                board.Succeed(order.JobId, $"Scored {rows} rows with v{version}{(failed > 0 ? $"; {failed} rows could not be scored (see the error column)" : "")}.", version, order.ResultFile, rows);
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
            if (orders.Reader.Count == 0 && board.Get(order.JobId) is { RowsDone: >= ReturnMemoryFromRows } done)
            {
                // A large file leaves its pieces' buffers in the pools and the large-object heap; with no job waiting they go
                // back to the system rather than stay resident beside the serving (bench/NOTES.md, resident memory).
                var pause = ProcessMemory.ReturnFreeMemory();
                log.LogInformation("Scoring job {Job} ({Rows} rows) done; returned its memory in a {Pause:0} ms collection.", done.Id, done.RowsDone, pause.TotalMilliseconds);
            }
        }
    }

    private async Task<(long Rows, long Failed, int Version)> ScoreAsync(ScoringOrder order, CancellationToken ct)
    {
        var model = host.Require();
        var schema = model.Schema;
        Stream input = order.Upload?.OpenRead(ct) ?? new FileStream(order.InputFile, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        using var pieces = CsvPieces.Open(input, "upload", pieceBytes: PieceBytes);
        var layout = Layout(model, pieces, order.Contributions);
        var temp = order.ResultFile + ".tmp";
        (long Rows, long Failed) written;
        try
        {
            var length = order.Upload is null ? Math.Max(1, new FileInfo(order.InputFile).Length) : 0;
            var report = Math.Max(1, settings.Model.BatchSize);
            await using var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            written = await ScoreIntoAsync(pieces, layout, output, (before, rows, endPosition) =>
            {
                if (rows / report != before / report)
                {
                    // While the upload arrives its length is unknown: the row count moves, the fraction waits.
                    board.Progress(order.JobId, length > 0 ? (double)endPosition / length : 0, rows);
                }
            }, ct);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        File.Move(temp, order.ResultFile, overwrite: true);
        return (written.Rows, written.Failed, model.Version);
    }

    /// <summary>
    /// A CSV file of <paramref name="rows"/> rows of <paramref name="model"/>'s typical customer
    /// (<see cref="Core.Models.ModelCard.TypicalCustomer"/>), as UTF-8 with a header of the schema's id and feature
    /// columns: the input of <see cref="RehearseAsync"/>, made once per warm-up.
    /// </summary>
    public static byte[] RehearsalFile(ServingModel model, int rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        var schema = model.Schema;
        var names = schema.Features.Select(f => f.Name).Prepend(schema.IdColumn ?? "").Where(n => n.Length > 0);
        var line = string.Join(',', model.Card.TypicalCustomer().Select(v => Cell(v.ToString())));
        var text = new StringBuilder(string.Join(',', names.Select(Cell))).Append('\n');
        for (var r = 0; r < rows; r++)
        {
            text.Append(schema.IdColumn is null ? "" : "warm-up,").Append(line).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>
    /// Runs the scoring pipeline of a job (the pieces, the parse, the serving scorer, the result lines in order) over
    /// <paramref name="file"/> (a CSV such as <see cref="RehearsalFile"/>) with <paramref name="model"/> (with each row's
    /// exact SHAP values when <paramref name="contributions"/>, as a job may ask), in pieces of
    /// <see cref="RehearsalPieceBytes"/>, into nothing: no job, file or log entry is made. The server's warm-up calls it
    /// before readiness so the first real job runs on optimised code rather than paying for its compilation.
    /// Returns the rows scored.
    /// </summary>
    /// <exception cref="InvalidDataException">The file lacks a feature column, is not CSV, or holds a row the model cannot score.</exception>
    public async Task<long> RehearseAsync(ServingModel model, byte[] file, bool contributions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var pieces = CsvPieces.Open(new MemoryStream(file, writable: false), "rehearsal", pieceBytes: RehearsalPieceBytes);
        var layout = Layout(model, pieces, contributions);
        var (scored, failed) = await ScoreIntoAsync(pieces, layout, Stream.Null, static (_, _, _) => { }, ct);
        if (failed > 0)
        {
            throw new InvalidDataException($"{failed} of the {scored} rehearsal rows could not be scored.");
        }
        return scored;
    }

    /// <summary>
    /// The result's layout for a file whose header <paramref name="pieces"/> has read: each feature's column, the id's,
    /// and with a survival champion its columns too (horizon probabilities, expected lifetime, revenue at risk).
    /// </summary>
    /// <exception cref="InvalidDataException">The header lacks a feature column (each missing one is named).</exception>
    private ResultLayout Layout(ServingModel model, CsvPieces pieces, bool contributions)
    {
        var schema = model.Schema;
        var reader = pieces.Header;
        var columns = schema.Features.Select(f => reader.ColumnIndex(f.Name)).ToArray();
        var missing = schema.Features.Where((f, i) => columns[i] < 0).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"The CSV header lacks the feature column(s) {string.Join(", ", missing)}.");
        }
        var idColumn = schema.IdColumn is { } id ? reader.ColumnIndex(id) : -1;
        return new ResultLayout(model, contributions, SurvivalColumns.For(survivalHost, reader.ColumnIndex), columns, idColumn);
    }

    /// <summary>Bytes per piece in <see cref="RehearseAsync"/>: small, so the per-piece code is called as often as in a large job.</summary>
    public const int RehearsalPieceBytes = 1 << 13;

    /// <summary>
    /// The pipeline: this thread cuts the upload into pieces of whole records, the thread pool parses and scores each
    /// piece into result lines, and the lines are written in input order, each with its row number.
    /// </summary>
    /// <param name="progress">Called after each piece is written: the rows written before it, after it, and the upload's position at its end.</param>
    private static async Task<(long Rows, long Failed)> ScoreIntoAsync(CsvPieces pieces, ResultLayout layout, Stream output, Action<long, long, long> progress, CancellationToken ct)
    {
        output.Write(Encoding.UTF8.GetBytes(layout.Header));
        long rows = 0, failed = 0;
        var number = new byte[20];
        void Write(ScoredPiece scored)
        {
            try
            {
                var text = scored.Text.AsSpan();
                var start = 0;
                for (var r = 0; r < scored.Rows; r++)
                {
                    // Rows are numbered here, in order: a piece does not know how many rows came before it.
                    Utf8Formatter.TryFormat(rows + r + 1, number, out var digits);
                    output.Write(number, 0, digits);
                    output.Write(text[start..scored.Ends[r]]);
                    start = scored.Ends[r];
                }
                failed += scored.Failed;
                var before = rows;
                rows += scored.Rows;
                progress(before, rows, scored.EndPosition);
            }
            finally
            {
                scored.Return();
            }
        }
        await pieces.ProcessAsync(layout.Score, Write, 2 * Math.Max(2, Environment.ProcessorCount), ct);
        return (rows, failed);
    }

    private static string Cell(string? text) =>
        string.IsNullOrEmpty(text) ? "" : text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;

    /// <summary>
    /// A piece's result lines in UTF-8, each without its row number (it starts at the comma after it):
    /// <see cref="Ends"/> holds where each line ends. The buffers are pooled; <see cref="Return"/> gives them back.
    /// </summary>
    private sealed class ScoredPiece(byte[] text, int[] ends, int rows, int failed, long endPosition)
    {
        public byte[] Text { get; } = text;
        public int[] Ends { get; } = ends;
        public int Rows { get; } = rows;
        public int Failed { get; } = failed;

        /// <summary>How far into the upload (bytes) the piece ends.</summary>
        public long EndPosition { get; } = endPosition;

        public void Return()
        {
            ArrayPool<byte>.Shared.Return(Text);
            ArrayPool<int>.Shared.Return(Ends);
        }
    }

    /// <summary>A growable UTF-8 buffer from the pool, for one piece's result lines.</summary>
    private struct Utf8Lines(int capacity)
    {
        public byte[] Buffer = ArrayPool<byte>.Shared.Rent(capacity);
        public int Length;

        /// <summary>Room for at least <paramref name="bytes"/> more bytes.</summary>
        public Span<byte> Free(int bytes)
        {
            if (Buffer.Length - Length < bytes)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * Buffer.Length, Length + bytes));
                Buffer.AsSpan(0, Length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(Buffer);
                Buffer = larger;
            }
            return Buffer.AsSpan(Length);
        }

        public void Append(string text)
        {
            var free = Free(Encoding.UTF8.GetMaxByteCount(text.Length));
            Length += Encoding.UTF8.GetBytes(text, free);
        }

        public void Append(char ascii, int count)
        {
            Free(count).Slice(0, count).Fill((byte)ascii);
            Length += count;
        }

        /// <summary>A double as "R" writes it (the shortest text that reads back to the same number).</summary>
        public void Append(double value)
        {
            value.TryFormat(Free(32), out var written, "R", CultureInfo.InvariantCulture);
            Length += written;
        }
    }

    /// <summary>The result file's columns, and each row's line in them.</summary>
    private sealed class ResultLayout
    {
        private readonly ServingModel model;
        private readonly bool contributions;
        private readonly bool explain;
        private readonly Dictionary<string, int> positions;
        private readonly SurvivalColumns? survival;
        private readonly int[] columns;
        private readonly int idColumn;

        /// <param name="columns">Each feature's column in the file, in schema order.</param>
        /// <param name="idColumn">The customer id's column, or -1.</param>
        public ResultLayout(ServingModel model, bool contributions, SurvivalColumns? survival, int[] columns, int idColumn)
        {
            this.model = model;
            this.contributions = contributions;
            this.survival = survival;
            this.columns = columns;
            this.idColumn = idColumn;
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

        /// <summary>
        /// Parses a piece and scores its rows one by one with the serving scorer (as <c>/predict</c> does) into result
        /// lines. Runs on several pieces at once. A malformed record fails the piece with its line in the upload.
        /// </summary>
        public ScoredPiece Score(CsvPiece piece)
        {
            var features = positions.Count;
            var values = new FeatureValue[features];
            var phi = contributions ? new double[features] : [];
            // About 100 bytes a row without contributions: a piece's lines mostly fit the first buffer.
            var text = new Utf8Lines(piece.Bytes.Length);
            var ends = ArrayPool<int>.Shared.Rent(Math.Max(256, piece.Bytes.Length / 64));
            int rows = 0, failed = 0;
            try
            {
                using var reader = piece.Open();
                while (reader.Read())
                {
                    var cells = reader.Current;
                    for (var f = 0; f < features; f++)
                    {
                        values[f] = FeatureValue.Of(cells[columns[f]]);
                    }
                    text.Append(',', 1);
                    text.Append(Cell(idColumn >= 0 ? cells[idColumn] : null));
                    try
                    {
                        var result = model.Scorer.Score(values, reasons: explain ? Predictions.Predictor.AllReasons : 0);
                        text.Append(',', 1);
                        text.Append(result.Probability);
                        text.Append(result.WillChurn ? ",true," : ",false,");
                        text.Append(result.RiskTier);
                        text.Append(',', 1);
                        if (result.UnseenCategories.Count > 0)
                        {
                            text.Append(Cell(string.Join(';', result.UnseenCategories)));
                        }
                        text.Append(',', 1);
                        if (contributions)
                        {
                            AppendContributions(ref text, result, phi);
                        }
                    }
                    catch (FeatureValueException ex)
                    {
                        failed++;
                        text.Append(',', 5);
                        text.Append(Cell(ex.Message));
                        text.Append(',', contributions ? features + 1 : 0);
                    }
                    if (survival is not null)
                    {
                        text.Append(survival.Cells(cells));
                    }
                    text.Append('\n', 1);
                    if (rows == ends.Length)
                    {
                        var more = ArrayPool<int>.Shared.Rent(2 * ends.Length);
                        ends.AsSpan().CopyTo(more);
                        ArrayPool<int>.Shared.Return(ends);
                        ends = more;
                    }
                    ends[rows++] = text.Length;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(text.Buffer);
                ArrayPool<int>.Shared.Return(ends);
                throw;
            }
            return new ScoredPiece(text.Buffer, ends, rows, failed, piece.EndPosition);
        }

        private void AppendContributions(ref Utf8Lines text, ScoreResult result, double[] phi)
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
            text.Append(',', 1);
            text.Append(baseValue);
            foreach (var value in phi)
            {
                text.Append(',', 1);
                text.Append(value);
            }
        }
    }
}
