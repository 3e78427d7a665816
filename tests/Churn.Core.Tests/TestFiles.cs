namespace Churn.Core.Tests;

/// <summary>Temporary files and the shared reference datasets for tests.</summary>
internal static class TestFiles
{
    public static string Temp(string content, string extension = ".csv")
    {
        var path = Path.Combine(Scratch.Root, $"churn-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, content);
        return path;
    }

    public static string TempBytes(byte[] content)
    {
        var path = Path.Combine(Scratch.Root, $"churn-test-{Guid.NewGuid():N}.csv");
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>../shared/data beside the repository, found from the test's working directory upwards.</summary>
    public static string? SharedData()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "data");
            if (File.Exists(Path.Combine(candidate, "README.md")))
            {
                return Path.GetFullPath(candidate);
            }
        }
        return null;
    }
}

/// <summary>A fact that needs ../shared/data; it is skipped, saying why, only when that folder is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (TestFiles.SharedData() is null)
        {
            Skip = "../shared/data (the reference churn datasets) is not beside this repository.";
        }
    }
}
