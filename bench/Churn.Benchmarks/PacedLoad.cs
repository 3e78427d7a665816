using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Churn.Benchmarks;

/// <summary>
/// Open-loop load at a fixed rate with evenly spaced sends: request i is sent at <c>start + i / rate</c> whether or not
/// earlier ones were answered, and each latency is timed from its own send. <c>hey -q</c> paces each worker with its
/// own ticker, and its workers start together, so <c>-c 10 -q 100</c> offers bursts of ten requests every 10 ms rather
/// than one every millisecond (bench/NOTES.md); this offers the same rate spread out.
/// </summary>
/// <remarks>
/// Usage: <c>paced URL BODY.json RATE SECONDS OUT.json NAME</c>, the API key in <c>CHURN_BENCH_KEY</c>. One second at the
/// same rate is sent first and not recorded (connections opened, the client's own code compiled). The output has the
/// fields of <c>bench/tools/hey_stats.py</c> (latencies in ms, nearest-rank percentiles of the 2xx answers) and, beside
/// them, how late the sends were against the schedule, the latencies timed from the schedule instead, and how many sends
/// were skipped because <see cref="MaxOutstanding"/> requests were still unanswered.
/// </remarks>
internal static partial class PacedLoad
{
    /// <summary>
    /// Requests awaiting an answer beyond which a due send is skipped and counted as not sent: a server slower than the
    /// offered rate is then measured at what it sustains, and is not left a backlog that would slow the next case.
    /// </summary>
    public const int MaxOutstanding = 200;

    private const int ClockMonotonic = 1;
    private const int TimerAbsolute = 1;

    public static async Task<int> RunAsync(string url, string bodyPath, double rate, double seconds, string outPath, string name)
    {
        if (Stopwatch.Frequency != 1_000_000_000)
        {
            // On Linux the stopwatch reads CLOCK_MONOTONIC in nanoseconds, which the sleep below waits on.
            throw new PlatformNotSupportedException("The paced load needs Linux's monotonic clock in nanoseconds.");
        }
        var body = await File.ReadAllBytesAsync(bodyPath);
        var key = Environment.GetEnvironmentVariable("CHURN_BENCH_KEY");
        using var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        _ = await SendAsync(client, url, body, key, rate, 1.0);
        var run = await SendAsync(client, url, body, key, rate, seconds);

        var ok = new List<double>();
        var fromSchedule = new List<double>();
        var late = new List<double>();
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long lastEnd = 0;
        var skipped = 0;
        for (var i = 0; i < run.Count; i++)
        {
            if (run.Status[i] == Skipped)
            {
                skipped++;
                continue;
            }
            var code = run.Status[i] == 0 ? "error" : run.Status[i].ToString(CultureInfo.InvariantCulture);
            codes[code] = codes.GetValueOrDefault(code) + 1;
            late.Add(Milliseconds(run.Sent[i] - run.Due[i]));
            lastEnd = Math.Max(lastEnd, run.Ended[i]);
            if (run.Status[i] is >= 200 and < 300)
            {
                ok.Add(Milliseconds(run.Ended[i] - run.Sent[i]));
                fromSchedule.Add(Milliseconds(run.Ended[i] - run.Due[i]));
            }
        }
        ok.Sort();
        fromSchedule.Sort();
        late.Sort();
        var wall = (lastEnd - run.Start) / 1e9;
        var report = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["requests_ok"] = ok.Count,
            ["status_codes"] = codes,
            ["wall_seconds"] = Math.Round(wall, 3),
            ["offered_per_second"] = rate,
            ["requests_per_second"] = Math.Round(ok.Count / wall, 1),
            ["rows_per_second"] = Math.Round(ok.Count / wall, 1),
            ["latency_ms"] = Percentiles(ok),
            ["latency_from_schedule_ms"] = Percentiles(fromSchedule),
            ["send_late_ms"] = Percentiles(late),
            ["skipped_sends"] = skipped,
            ["command"] = $"Churn.Benchmarks paced {url} {Path.GetFileName(bodyPath)} {rate} {seconds} (open loop, evenly spaced sends)",
        };
        await File.WriteAllTextAsync(outPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private const int Skipped = -1;

    private sealed record Run(long Start, int Count, long[] Due, long[] Sent, long[] Ended, int[] Status);

    /// <summary>Sends <c>rate × seconds</c> requests on schedule from one thread, then waits for every answer.</summary>
    private static async Task<Run> SendAsync(HttpClient client, string url, byte[] body, string? key, double rate, double seconds)
    {
        var count = (int)Math.Round(rate * seconds);
        var due = new long[count];
        var sent = new long[count];
        var ended = new long[count];
        var status = new int[count];
        var pending = new Task[count];
        var outstanding = 0;
        var period = 1e9 / rate;
        var start = Stopwatch.GetTimestamp() + 10_000_000;
        var sender = new Thread(() =>
        {
            for (var i = 0; i < count; i++)
            {
                due[i] = start + (long)(i * period);
                SleepUntil(due[i]);
                sent[i] = Stopwatch.GetTimestamp();
                if (Volatile.Read(ref outstanding) >= MaxOutstanding)
                {
                    status[i] = Skipped;
                    ended[i] = sent[i];
                    pending[i] = Task.CompletedTask;
                    continue;
                }
                Interlocked.Increment(ref outstanding);
                pending[i] = SendOneAsync(client, url, body, key, i, ended, status, () => Interlocked.Decrement(ref outstanding));
            }
        })
        { IsBackground = true, Name = "paced sender" };
        sender.Start();
        await Task.Run(sender.Join);
        await Task.WhenAll(pending);
        return new Run(start, count, due, sent, ended, status);
    }

    private static async Task SendOneAsync(HttpClient client, string url, byte[] body, string? key, int i, long[] ended, int[] status, Action answered)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (key is not null)
            {
                request.Headers.Add("X-API-Key", key);
            }
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            status[i] = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            status[i] = 0;
        }
        ended[i] = Stopwatch.GetTimestamp();
        answered();
    }

    private static void SleepUntil(long timestamp)
    {
        if (Stopwatch.GetTimestamp() >= timestamp)
        {
            return;
        }
        var at = new Timespec { Seconds = timestamp / 1_000_000_000, Nanoseconds = timestamp % 1_000_000_000 };
        while (ClockNanosleep(ClockMonotonic, TimerAbsolute, in at, IntPtr.Zero) != 0)
        {
            // Interrupted by a signal: sleep again to the same absolute time.
        }
    }

    private static double Milliseconds(long nanoseconds) => nanoseconds / 1e6;

    private static Dictionary<string, double?> Percentiles(List<double> sorted) => new()
    {
        ["p50"] = Rank(sorted, 50),
        ["p90"] = Rank(sorted, 90),
        ["p99"] = Rank(sorted, 99),
        ["p99_9"] = Rank(sorted, 99.9),
        ["max"] = sorted.Count > 0 ? Math.Round(sorted[^1], 3) : null,
        ["mean"] = sorted.Count > 0 ? Math.Round(sorted.Average(), 3) : null,
    };

    private static double? Rank(List<double> sorted, double p) =>
        sorted.Count == 0 ? null : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)], 3);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in Timespec request, IntPtr remaining);
}
