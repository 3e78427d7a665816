using System.Runtime.InteropServices;

namespace Churn.Server.Hosting;

/// <summary>
/// The C library's heap (glibc malloc on Linux), which SQLite, the runtime's compiler and the native libraries allocate
/// from. Memory they free inside the heap stays resident until the heap is trimmed; the compiler's scratch memory of the
/// warm-up is such memory. Elsewhere (macOS, Windows, musl) the call does nothing.
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>
    /// Gives the heap's free pages back to the system (for after a burst of native allocations, such as the warm-up).
    /// Returns false when there is nothing to call: not Linux, or a C library without glibc's <c>malloc_trim</c>.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            _ = MallocTrim(0);
            return true;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
