using Churn.Data.Mlflow;

namespace Churn.Data.Store;

/// <summary>
/// Store and MLflow settings for processes without a configuration host (the CLI): <c>&lt;dataDir&gt;/churn.json</c>
/// sections "Store" and "Mlflow", overridden by the environment variables .NET configuration would read
/// (<c>Churn__Store__Provider</c>, <c>Churn__Store__ConnectionString</c>, <c>Churn__Mlflow__TrackingUri</c>).
/// </summary>
public sealed record StoreConfiguration(StoreOptions Store, MlflowOptions Mlflow)
{
    public const string FileName = "churn.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip };

    public static StoreConfiguration Load(string dataDir)
    {
        var store = new StoreOptions();
        var mlflow = new MlflowOptions();
        var file = Path.Combine(dataDir, FileName);
        if (File.Exists(file))
        {
            var sections = JsonSerializer.Deserialize<FileSections>(File.ReadAllText(file), Json);
            store = sections?.Store ?? store;
            mlflow = sections?.Mlflow ?? mlflow;
        }
        store.Provider = Environment.GetEnvironmentVariable("Churn__Store__Provider") ?? store.Provider;
        store.ConnectionString = Environment.GetEnvironmentVariable("Churn__Store__ConnectionString") ?? store.ConnectionString;
        mlflow.TrackingUri = Environment.GetEnvironmentVariable("Churn__Mlflow__TrackingUri") ?? mlflow.TrackingUri;
        return new StoreConfiguration(store, mlflow);
    }

    private sealed record FileSections(StoreOptions? Store, MlflowOptions? Mlflow);
}
