namespace Churn.Testing;

/// <summary>The checkout the tests run from: the nearest parent of the test binaries that holds <c>Churn.slnx</c>.</summary>
public static class RepositoryRoot
{
    /// <summary>The repository's root folder, or null when the tests run outside a checkout.</summary>
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Churn.slnx")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>The repository's root folder, or an error naming where the search started.</summary>
    /// <exception cref="InvalidOperationException">No folder above the test binaries holds Churn.slnx.</exception>
    public static string Require() =>
        Find() ?? throw new InvalidOperationException($"No Churn.slnx above {AppContext.BaseDirectory}.");
}
