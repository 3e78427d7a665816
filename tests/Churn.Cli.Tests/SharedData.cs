namespace Churn.Cli.Tests;

/// <summary>../shared/data beside the repository (the folder holding Churn.slnx), or null when it is absent.</summary>
internal static class SharedData
{
    public static string? Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Churn.slnx")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
                return File.Exists(Path.Combine(candidate, "README.md")) ? candidate : null;
            }
        }
        return null;
    }

    public static string PathOf(string name) => Path.Combine(Folder() ?? throw new InvalidOperationException("../shared/data is absent."), name);
}

/// <summary>A fact that needs ../shared/data; it is skipped, saying why, only when that folder is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Folder() is null)
        {
            Skip = "../shared/data (the reference datasets, Hillstrom among them) is not beside this repository.";
        }
    }
}
