using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Models;
using Churn.Core.Schema;
using Churn.Core.Scoring;
using Churn.Core.Training;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Churn.Data.Store;
using Microsoft.EntityFrameworkCore;

namespace Churn.Benchmarks;

/// <summary>
/// Usage:
///   Churn.Benchmarks bdn   [BenchmarkDotNet args]   in-process micro benchmarks (needs CHURN_BENCH_MODEL, CHURN_BENCH_TELCO)
///   Churn.Benchmarks train OUT.json RUNS            Stopwatch over ChurnTrainer.Train on the 64k file (CHURN_BENCH_TRAIN)
///   Churn.Benchmarks drift OUT.json ROWS WORKDIR    the drift check over ROWS predictions read from a SQLite store (CHURN_BENCH_MODEL, CHURN_BENCH_TELCO)
///   Churn.Benchmarks allocations TRACE REQUESTS OUT.txt   bytes allocated per request, by type and stack, from a GC trace (alloc-profile.sh)
///   Churn.Benchmarks paced URL BODY RATE SECONDS OUT.json NAME   open-loop POSTs at a fixed, evenly spaced rate (key in CHURN_BENCH_KEY)
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "drift")
        {
            return StoreDriftTiming.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3]).GetAwaiter().GetResult();
        }
        if (args.Length > 0 && args[0] == "allocations")
        {
            return AllocationReport.Run(args[1], long.Parse(args[2], CultureInfo.InvariantCulture), args[3]);
        }
        if (args.Length > 0 && args[0] == "paced")
        {
            return PacedLoad.RunAsync(args[1], args[2], double.Parse(args[3], CultureInfo.InvariantCulture),
                double.Parse(args[4], CultureInfo.InvariantCulture), args[5], args[6]).GetAwaiter().GetResult();
        }
        if (args.Length > 0 && args[0] == "train")
        {
            return TrainTiming.Run(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
        }
        // Short runs in process: one launch, few iterations. The machine is shared and noisy; medians are reported.
        var job = Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithId("short-inproc");
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddExporter(JsonExporter.Full)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var rest = args.Length > 0 && args[0] == "bdn" ? args[1..] : args;
        BenchmarkSwitcher.FromTypes([typeof(ScoringBenchmarks), typeof(FileBenchmarks), typeof(DriftBenchmarks)]).Run(rest, config);
        return 0;
    }
}

/// <summary>Shared inputs: the Telco model package built by run.sh and the Telco rows.</summary>
internal static class Inputs
{
    public static string ModelPath => Environment.GetEnvironmentVariable("CHURN_BENCH_MODEL") ?? throw new InvalidOperationException("Set CHURN_BENCH_MODEL to a model.zip.");

    public static string TelcoPath => Environment.GetEnvironmentVariable("CHURN_BENCH_TELCO") ?? throw new InvalidOperationException("Set CHURN_BENCH_TELCO to the Telco CSV.");

    public static Dataset LoadTelco(ChurnModel model) =>
        DatasetLoader.Load(TelcoPath, model.Card.Schema, LabelRequirement.Optional);

    /// <summary>The Telco file repeated until it holds at least <paramref name="rows"/> data rows, in memory.</summary>
    public static string TelcoText(int rows, out int actualRows)
    {
        var lines = File.ReadAllLines(TelcoPath);
        var sb = new StringBuilder(lines[0]).Append('\n');
        actualRows = 0;
        while (actualRows < rows)
        {
            for (var i = 1; i < lines.Length && actualRows < rows; i++, actualRows++)
            {
                sb.Append(lines[i]).Append('\n');
            }
        }
        return sb.ToString();
    }
}

[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private ChurnScorer scorer = null!;
    private FeatureValue[][] rows = null!;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        var model = ChurnModel.Load(Inputs.ModelPath);
        scorer = new ChurnScorer(model);
        var data = Inputs.LoadTelco(model);
        rows = [.. Enumerable.Range(0, data.RowCount).Select(data.Row)];
        // The first ~20k predictions are slow (ML.NET notes); warm past that before measuring.
        scorer.WarmUp(25_000);
    }

    private FeatureValue[] NextRow()
    {
        var r = rows[next];
        next = next + 1 == rows.Length ? 0 : next + 1;
        return r;
    }

    [Benchmark(Description = "single row, no reasons")]
    public double SingleNoReasons() => scorer.Score(NextRow(), reasons: 0).Probability;

    [Benchmark(Description = "single row, 5 reasons (what /predict does)")]
    public double SingleWithReasons() => scorer.Score(NextRow(), reasons: 5).Probability;

    [Benchmark(Description = "100-row batch, 5 reasons each (what /predict/batch does)")]
    public double Batch100WithReasons()
    {
        double s = 0;
        for (var i = 0; i < 100; i++)
        {
            s += scorer.Score(NextRow(), reasons: 5).Probability;
        }
        return s;
    }

    [Benchmark(Description = "100-row batch, no reasons")]
    public double Batch100NoReasons()
    {
        double s = 0;
        for (var i = 0; i < 100; i++)
        {
            s += scorer.Score(NextRow(), reasons: 0).Probability;
        }
        return s;
    }
}

/// <summary>CSV parsing and bulk file scoring; one operation = one row.</summary>
public class FileBenchmarks
{
    public const int Rows = 70_430; // the Telco file ten times

    private string text = null!;
    private ChurnModel model = null!;
    private float[] chunk = null!;

    [GlobalSetup]
    public void Setup()
    {
        model = ChurnModel.Load(Inputs.ModelPath);
        text = Inputs.TelcoText(Rows, out _);
        // Warm the bulk path once.
        FileScorer.Score(model, new CsvReader(new StringReader(text), "telco"), TextWriter.Null);
        var data = Inputs.LoadTelco(model);
        var index = Enumerable.Range(0, 8192).Select(i => i % data.RowCount).ToArray();
        chunk = model.Encoder.EncodeAll(data.Select(index));
    }

    [Benchmark(Description = "profile: parse + encode only (no scoring, no output), per row", OperationsPerInvoke = Rows)]
    public int ParseAndEncode()
    {
        using var reader = new CsvReader(new StringReader(text), "telco");
        var schema = model.Card.Schema;
        var columns = schema.Features.Select(f => reader.ColumnIndex(f.Name)).ToArray();
        var values = new FeatureValue[columns.Length];
        var slots = new float[model.Encoder.Width];
        var n = 0;
        while (reader.Read())
        {
            for (var f = 0; f < columns.Length; f++)
            {
                values[f] = FeatureValue.Of(reader.Current[columns[f]]);
            }
            model.Encoder.Encode(values, slots);
            n++;
        }
        return n;
    }

    [Benchmark(Description = "profile: ChurnModel.ScoreMatrix on an encoded 8,192-row chunk (the model alone), per row", OperationsPerInvoke = 8192)]
    public double ScoreMatrixOnly() => model.ScoreMatrix(chunk, 8192)[0];

    [Benchmark(Description = "CSV parsing (CsvReader), per row", OperationsPerInvoke = Rows)]
    public int ParseCsv()
    {
        using var reader = new CsvReader(new StringReader(text), "telco");
        var n = 0;
        while (reader.Read())
        {
            n++;
        }
        return n;
    }

    [Benchmark(Description = "file scoring (FileScorer, parse+encode+score+write), per row", OperationsPerInvoke = Rows)]
    public long ScoreFile()
    {
        using var reader = new CsvReader(new StringReader(text), "telco");
        return FileScorer.Score(model, reader, TextWriter.Null).Scored;
    }
}

/// <summary>DriftDetector over 1M rows (the Telco rows repeated) with 1M scores, against the model card.</summary>
public class DriftBenchmarks
{
    public const int Rows = 1_000_000;

    private ChurnModel model = null!;
    private Dataset current = null!;
    private double[] scores = null!;

    [GlobalSetup]
    public void Setup()
    {
        model = ChurnModel.Load(Inputs.ModelPath);
        var data = Inputs.LoadTelco(model);
        var index = Enumerable.Range(0, Rows).Select(i => i % data.RowCount).ToArray();
        current = data.Select(index);
        var telcoScores = model.Score(data);
        scores = [.. index.Select(i => telcoScores[i])];
    }

    [Benchmark(Description = "drift check over 1M rows (DriftDetector.Detect, all features + score)")]
    public double Drift() => DriftDetector.Detect(model.Card, current, scores).DriftedShare;
}

/// <summary>Training time on the 64k-row file, the way `churn train` does it (infer schema, load, train).</summary>
internal static class TrainTiming
{
    public static int Run(string output, int runs)
    {
        var path = Environment.GetEnvironmentVariable("CHURN_BENCH_TRAIN") ?? throw new InvalidOperationException("Set CHURN_BENCH_TRAIN.");
        var seconds = new List<double>();
        var loadSeconds = new List<double>();
        var stages = new List<string>();
        for (var run = 0; run < runs; run++)
        {
            var total = Stopwatch.StartNew();
            var schema = SchemaInference.Infer(path, "Churn", "1", "CustomerID").Schema;
            var data = DatasetLoader.Load(path, schema);
            loadSeconds.Add(total.Elapsed.TotalSeconds);
            var result = ChurnTrainer.Train(data, new TrainingOptions { DataSource = path });
            total.Stop();
            seconds.Add(total.Elapsed.TotalSeconds);
            // Where the time went, as the card records it (encoding through evaluation; the rest is load and the card's summaries).
            stages.Add($"card {result.Model.Card.TrainingSeconds:0.00} s: {result.Model.Card.Parameters.GetValueOrDefault("stageSeconds")}");
            Console.WriteLine($"run {run + 1}: {total.Elapsed.TotalSeconds:0.00} s (load {loadSeconds[^1]:0.00} s), rows {data.RowCount}, test AUC {result.Model.Card.Metrics?.Auc:0.0000}");
        }
        var sorted = seconds.Order().ToArray();
        var report = new
        {
            benchmark = "training on customer_churn_dataset-testing-master.csv (64,374 rows), ChurnTrainer.Train defaults incl. schema inference and load",
            runs = seconds,
            load_seconds = loadSeconds,
            stage_seconds = stages,
            median_seconds = sorted[sorted.Length / 2],
            min_seconds = sorted[0],
            max_seconds = sorted[^1],
        };
        File.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}

/// <summary>
/// The drift check over logged predictions read from the store: <c>ROWS</c> prediction-log entries (Telco customers
/// as the predictor logs them, spread evenly over one day, the monitoring window's default) in a SQLite store under
/// WORKDIR, then, timed, the monitoring check's drift verdict over that day: <see cref="WindowDriftCounts.CountAsync"/>
/// (counts stored per bucket where they are still those of the rows, rows elsewhere) and <c>DriftDetector.Detect</c>
/// from the counts. The first run starts with no stored counts, so it counts every bucket from its rows; the runs after
/// it are the recurring check. The store is filled once and reused while it holds the same rows.
/// </summary>
internal static class StoreDriftTiming
{
    /// <summary>The first logged prediction's time; the rows fill the day from it.</summary>
    private static readonly DateTimeOffset Day = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(string output, int rows, string workDir, int runs = 3)
    {
        var model = ChurnModel.Load(Inputs.ModelPath);
        var store = new StoreFactory(new StoreOptions(), workDir);
        await store.MigrateAsync();
        var filled = Stopwatch.StartNew();
        await using (var db = store.CreateDbContext())
        {
            if (await db.PredictionLog.CountAsync() != rows || await db.PredictionLog.OrderBy(p => p.Time).Select(p => p.Time).FirstAsync() != Day)
            {
                await db.PredictionLog.ExecuteDeleteAsync();
                await FillAsync(store, model, rows);
            }
            await db.DriftCounts.ExecuteDeleteAsync();
        }
        filled.Stop();
        var seconds = new List<double>();
        var countSeconds = new List<double>();
        double drifted = 0;
        double first = 0;
        for (var run = 0; run <= runs; run++)
        {
            var clock = Stopwatch.StartNew();
            await using var db = store.CreateDbContext();
            var counted = await WindowDriftCounts.CountAsync(db, "churn", 1, model.Card, Day, Day.AddDays(1).AddTicks(-1));
            var count = clock.Elapsed.TotalSeconds;
            var report = DriftDetector.Detect(model.Card, counted.Counts);
            clock.Stop();
            drifted = report.DriftedShare;
            Console.WriteLine(FormattableString.Invariant(
                $"run {run}: {clock.Elapsed.TotalSeconds:0.000} s (counts {count:0.000} s), {counted.Counts.Rows} rows, {counted.BucketsStored} buckets as stored, {counted.BucketsCounted} counted, {counted.RowsRead} rows read, drifted share {drifted:0.000}"));
            if (run == 0)
            {
                first = clock.Elapsed.TotalSeconds;
                continue;
            }
            seconds.Add(clock.Elapsed.TotalSeconds);
            countSeconds.Add(count);
        }
        var sorted = seconds.Order().ToArray();
        File.WriteAllText(output, JsonSerializer.Serialize(new
        {
            benchmark = $"drift check over {rows:N0} logged predictions spread over one day: the monitoring check's verdict from the store (WindowDriftCounts.CountAsync: counts stored per 10-minute bucket, rows where there are none), DriftDetector.Detect from the counts",
            rows,
            runs = seconds,
            query_seconds = countSeconds,
            median_seconds = sorted[sorted.Length / 2],
            first_seconds = first,
            fill_seconds = Math.Round(filled.Elapsed.TotalSeconds, 1),
            drifted_share = drifted,
            note = "runs: the recurring check, with the day's buckets stored; first_seconds: the first check, which counts every bucket from its rows and stores it.",
        }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static async Task FillAsync(StoreFactory store, ChurnModel model, int rows)
    {
        var data = Inputs.LoadTelco(model);
        var schema = model.Card.Schema;
        var scores = model.Score(data);
        var inputs = new string[data.RowCount];
        for (var r = 0; r < data.RowCount; r++)
        {
            var row = data.Row(r);
            var json = new System.Text.Json.Nodes.JsonObject();
            for (var f = 0; f < schema.Features.Count; f++)
            {
                var v = row[f];
                json[schema.Features[f].Name] = v.IsMissing ? null : v.IsText ? System.Text.Json.Nodes.JsonValue.Create(v.Text) : System.Text.Json.Nodes.JsonValue.Create(v.Number);
            }
            inputs[r] = json.ToJsonString();
        }
        for (var done = 0; done < rows;)
        {
            await using var db = store.CreateDbContext();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var count = Math.Min(20_000, rows - done);
            for (var i = 0; i < count; i++, done++)
            {
                var r = done % data.RowCount;
                db.PredictionLog.Add(new PredictionLogEntry
                {
                    Id = Guid.CreateVersion7(),
                    Time = Day.AddTicks(done * (TimeSpan.TicksPerDay / rows)),
                    ModelName = "churn",
                    ModelVersion = 1,
                    CustomerId = data.Ids[r],
                    InputsJson = inputs[r],
                    Probability = scores[r],
                    LatencyMicroseconds = 20,
                });
            }
            await db.SaveChangesAsync();
        }
    }
}
