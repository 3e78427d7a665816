using System.Runtime.InteropServices;

namespace Churn.Core.Training;

/// <summary>
/// LightGBM runs on OpenMP, whose threads spin while they wait for work. On a machine whose cores are
/// shared (other processes, a web server beside the trainer), spinning threads starve each other:
/// early-stopped fits on 64k rows were measured at 55–146 s with spinning and 15–17 s with passive
/// waiting under the same load. OpenMP reads the policy from the native environment when it loads,
/// so it is set there (not in .NET's managed copy) before the first fit, unless the operator chose one.
/// </summary>
internal static partial class NativeThreading
{
    private static int _done;

    public static void PreferPassiveWaiting()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1 || !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
