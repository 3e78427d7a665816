using System.Runtime;

namespace Churn.Server.Hosting;

/// <summary>Gives memory a burst of work left behind back to the system, so a serving process does not keep it resident.</summary>
internal static class ProcessMemory
{
    /// <summary>
    /// The runtime settings <c>launch.sh</c> sets unless the environment has them (ADR 0009): the runtime reads them from
    /// the environment only, so a server started without the launcher runs without them.
    /// </summary>
    public static readonly IReadOnlyList<string> LauncherSettings = ["DOTNET_GCgen0size", "MALLOC_ARENA_MAX"];

    /// <summary>The <see cref="LauncherSettings"/> this process's environment lacks: empty when it was started through <c>launch.sh</c> or they were set by hand.</summary>
    public static IReadOnlyList<string> MissingLauncherSettings() =>
        [.. LauncherSettings.Where(name => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))];

    /// <summary>
    /// The runtime settings that decide this process's resident memory, in one line for the start-up log: the collector
    /// (workstation or server, concurrent or not), whether tiered PGO is on (the build turns it off: Directory.Build.props)
    /// and the <see cref="LauncherSettings"/> as this process's environment has them ("unset" for a missing one).
    /// </summary>
    public static string RuntimeSummary()
    {
        var collector = $"{(GCSettings.IsServerGC ? "server" : "workstation")} collector ({(GCSettings.LatencyMode == GCLatencyMode.Batch ? "not concurrent" : "concurrent")})";
        // The runtime reads the switch from the runtime configuration or, first, from DOTNET_TieredPGO; absent means on.
        var pgo = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is { Length: > 0 } variable
            ? variable != "0"
            : AppContext.GetData("System.Runtime.TieredPGO") switch
            {
                bool configured => configured,
                string text => !bool.TryParse(text, out var configured) || configured,
                _ => true,
            };
        var launcher = LauncherSettings.Select(name => $"{name}={(Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : "unset")}");
        return $"{collector}, tiered PGO {(pgo ? "on" : "off")}, {string.Join(", ", launcher)}";
    }

    /// <summary>
    /// One blocking, compacting collection of every generation, the large-object heap included, in the aggressive mode
    /// that also releases the collector's free space; then a trim of the C heap (<see cref="NativeHeap.Trim"/>). For
    /// after a burst (the warm-up before ready, a large file job, a retraining), never per request: it pauses every managed thread for
    /// the collection, tens of milliseconds with the server's live objects. Returns the pause, as the collector counts it.
    /// </summary>
    public static TimeSpan ReturnFreeMemory()
    {
        var before = GC.GetTotalPauseDuration();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _ = NativeHeap.Trim();
        return GC.GetTotalPauseDuration() - before;
    }
}
