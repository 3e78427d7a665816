namespace Churn.Core.Tests;

/// <summary>Temporary files for tests.</summary>
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
}
