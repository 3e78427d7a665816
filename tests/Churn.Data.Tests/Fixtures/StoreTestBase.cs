using Churn.Data.Mlflow;
using Churn.Data.Registry;

namespace Churn.Data.Tests.Fixtures;

/// <summary>A temporary data directory and a way to open the store in it on the provider the subclass chooses.</summary>
public abstract class StoreTestBase : IDisposable
{
    protected StoreDirectory Dir { get; } = new("churn-data");

    /// <summary>The store the test runs on: SQLite in the test's folder unless a provider's subclass says otherwise.</summary>
    protected virtual Task<StoreOptions> StoreOptionsAsync() => Task.FromResult(new StoreOptions());

    private StoreOptions? options;

    /// <summary>Opens the test's store; with <paramref name="dataDir"/>, a second, separate store (its own database too).</summary>
    protected async Task<ChurnStore> OpenAsync(MlflowOptions? mlflow = null, TimeProvider? time = null, string? dataDir = null)
    {
        options ??= await StoreOptionsAsync();
        var storeOptions = dataDir is null ? options : await StoreOptionsAsync();
        return await ChurnStore.OpenAsync(dataDir ?? Dir.Combine("data"), storeOptions, mlflow ?? new MlflowOptions(), time);
    }

    /// <summary>Writes a stand-in model package with distinct content.</summary>
    protected string WritePackage(string content, string name = "model.zip")
    {
        var dir = Dir.Combine("packages", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Records a finished run and registers a package from it.</summary>
    protected async Task<ModelVersionInfo> RegisterAsync(ChurnStore store, string model, string content)
    {
        var run = await store.Runs.StartAsync(model, parameters: new Dictionary<string, string> { ["trainer"] = "lightgbm" });
        await store.Runs.FinishAsync(run, new Dictionary<string, double> { ["auc"] = 0.8 });
        return await store.Registry.RegisterAsync(model, run, WritePackage(content), "{\"model\":\"card\"}", "tester");
    }

    public void Dispose()
    {
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
