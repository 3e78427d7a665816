using Xunit;

namespace Churn.Testing;

/// <summary>The reference datasets in <c>../shared/data</c> beside the repository; never copied into it.</summary>
public static class SharedData
{
    /// <summary>The folder, or null when it (or the repository root) is absent.</summary>
    public static string? Folder { get; } = Locate();

    /// <summary>A file of the folder.</summary>
    /// <exception cref="InvalidOperationException">The folder is absent: the test should have been a <see cref="SharedDataFactAttribute"/>.</exception>
    public static string PathOf(string name) =>
        Path.Combine(Folder ?? throw new InvalidOperationException("../shared/data is absent."), name);

    private static string? Locate()
    {
        if (RepositoryRoot.Find() is not { } root)
        {
            return null;
        }
        var data = Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
        return File.Exists(Path.Combine(data, "README.md")) ? data : null;
    }
}

/// <summary>A fact that needs <c>../shared/data</c>; it is skipped, saying why, only when that folder is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Folder is null)
        {
            Skip = "../shared/data (the reference datasets) is not beside this repository.";
        }
    }
}
