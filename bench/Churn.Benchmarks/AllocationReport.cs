using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace Churn.Benchmarks;

/// <summary>
/// Where a served request's managed allocations come from, read from an EventPipe trace of the runtime's GC events at
/// verbose level (bench/alloc-profile.sh). The runtime reports an allocation tick about every 100 KB allocated, naming
/// the type whose allocation crossed the mark and its call stack; summed over many requests the ticks apportion the
/// bytes to types and stacks in proportion (a sample, not an exact count). Figures are divided by the requests sent
/// during the trace, so they read as bytes per request.
/// </summary>
internal static class AllocationReport
{
    /// <summary>Writes the report of <paramref name="tracePath"/> (a .nettrace) for <paramref name="requests"/> requests to <paramref name="outPath"/>.</summary>
    public static int Run(string tracePath, long requests, string outPath)
    {
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var byStack = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(tracePath));
        var source = log.Events.GetSource();
        source.Clr.GCAllocationTick += tick =>
        {
            var bytes = tick.AllocationAmount64;
            total += bytes;
            byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + bytes;
            var frames = new List<string>();
            for (var frame = tick.CallStack(); frame is not null && frames.Count < 5; frame = frame.Caller)
            {
                if (frame.CodeAddress.FullMethodName is { Length: > 0 } method)
                {
                    frames.Add(method.Length > 120 ? method[..120] : method);
                }
            }
            var key = $"{tick.TypeName}  <=  {string.Join("  <  ", frames)}";
            byStack[key] = byStack.GetValueOrDefault(key) + bytes;
        };
        source.Process();
        using var output = new StreamWriter(outPath);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled {total / 1e6:F1} MB over {requests} requests: {total / (double)requests:F0} bytes per request"));
        output.WriteLine();
        output.WriteLine("## by type (bytes per request)");
        foreach (var (type, bytes) in byType.OrderByDescending(p => p.Value).Take(30))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)requests,10:F0}  {type}"));
        }
        output.WriteLine();
        output.WriteLine("## by type and the first five frames of its stack (bytes per request)");
        foreach (var (stack, bytes) in byStack.OrderByDescending(p => p.Value).Take(40))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)requests,10:F0}  {stack}"));
        }
        return 0;
    }
}
