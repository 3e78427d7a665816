namespace Churn.Reliability.Tests.Fixtures;

/// <summary>
/// Data directories for the suites. The first use trains a template once (a champion on 1,000 generated rows and a
/// second version from a retraining, so promotions have somewhere to go); each test then works on its own copy.
/// </summary>
public static class DataDirs
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? template;

    public static string Root { get; } = Path.Combine(Scratch.Root, "churn-reliability-tests");

    public static string NewEmpty()
    {
        var dir = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A copy of the trained template: store, model files and sample data, no spill or job files.</summary>
    public static async Task<TrainedDataDir> CloneTrainedAsync()
    {
        var source = await TemplateAsync();
        var target = new TrainedDataDir();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("spill", StringComparison.Ordinal) || relative.StartsWith("jobs", StringComparison.Ordinal))
            {
                continue;
            }
            var to = target.Combine(relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    private static async Task<string> TemplateAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (template is not null)
            {
                return template;
            }
            var dir = NewEmpty();
            await using (var server = await ServerProcess.StartAsync(dir))
            {
                using var admin = server.Client();
                var job = await BackgroundJobs.RetrainAsync(admin, rows: 1000, seed: 11);
                var state = await BackgroundJobs.FinishedAsync(admin, job, TimeSpan.FromMinutes(4));
                if (state["status"]!.GetValue<string>() != "Succeeded")
                {
                    throw new InvalidOperationException($"The template's retraining failed: {state}");
                }
                await server.StopAsync();
            }
            template = dir;
            return dir;
        }
        finally
        {
            Gate.Release();
        }
    }
}
