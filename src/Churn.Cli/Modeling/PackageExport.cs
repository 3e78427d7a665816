namespace Churn.Cli.Modeling;

/// <summary>The <c>--out</c> directory of the training commands: the package as model.zip with its card as indented JSON beside it.</summary>
internal static class PackageExport
{
    /// <summary>Writes the package (through <paramref name="save"/>) and <paramref name="card"/> into <paramref name="outFlag"/>; returns the package's full path.</summary>
    public static string Write<TCard>(string outFlag, Action<string> save, TCard card)
    {
        var outDir = Path.GetFullPath(outFlag);
        var packagePath = Path.Combine(outDir, "model.zip");
        save(packagePath);
        File.WriteAllText(Path.Combine(outDir, ChurnModel.CardFileName), JsonSerializer.Serialize(card, JsonDefaults.Indented));
        return packagePath;
    }
}
