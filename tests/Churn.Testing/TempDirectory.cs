namespace Churn.Testing;

/// <summary>A fresh folder under <see cref="Scratch.Root"/>, removed on dispose.</summary>
public class TempDirectory : IDisposable
{
    /// <summary>Creates the folder; its name starts with <paramref name="prefix"/> so a stray one says which suite made it.</summary>
    public TempDirectory(string prefix = "temp") => Path = Scratch.NewDirectory(prefix);

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Runs just before the folder is deleted: a suite using SQLite clears its connection pools here.</summary>
    protected virtual void BeforeDelete()
    {
    }

    public void Dispose()
    {
        BeforeDelete();
        Scratch.Delete(Path);
        GC.SuppressFinalize(this);
    }
}
