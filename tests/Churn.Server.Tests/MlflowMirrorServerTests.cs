using Churn.Data.Registry;
using Churn.Data.Tests.Fixtures;

namespace Churn.Server.Tests;

/// <summary>
/// The server's own mirror job against the MLflow 2.22 double started with <c>--no-serve-artifacts</c> and an
/// <c>mlflow-artifacts:/</c> root: the first champion and a retraining reach MLflow without their files, and the server
/// says why in an alert and in its health details.
/// </summary>
public sealed class MlflowMirrorServerTests : IAsyncLifetime
{
    private readonly FakeMlflowServer mlflow = new(new MlflowServerSettings(ServeArtifacts: false, DefaultArtifactRoot: "mlflow-artifacts:/"));
    private readonly StoreDirectory dataDir = new("churn-server");
    private ChurnFactory factory = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(dataDir.Combine("churn.json"), new JsonObject
        {
            ["Mlflow"] = new JsonObject { ["TrackingUri"] = mlflow.Uri, ["Deployment"] = "eu-west", ["DeliveryInterval"] = "00:00:01" },
        }.ToJsonString());
        factory = new ChurnFactory(dataDir.Path);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RetrainingIsMirroredByTheServerWhichAlertsAndReportsThatMlflowCannotTakeTheFiles()
    {
        using var admin = factory.ClientWithKey(TestSecrets.AdminKey);
        await UntilAsync(() => mlflow.Models.TryGetValue("eu-west.churn", out var m) && m.Aliases.ContainsKey("champion"), "the first champion in MLflow");

        var start = await admin.PostAsJsonAsync("/retrain", new { rows = 3000, seed = 99 });
        start.EnsureSuccessStatusCode();
        var job = await BackgroundJobs.FinishedAsync(admin, (await start.ReadObjectAsync())["id"]!.GetValue<string>());
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());

        // Everything the registry holds reaches MLflow: each version with its run finished first, and the same aliases.
        var registry = factory.Services.GetRequiredService<ModelRegistry>();
        var versions = await registry.ListVersionsAsync("churn");
        Assert.Equal(2, versions.Count);
        var expectedAliases = versions.SelectMany(v => v.Aliases.Select(a => (a, v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .OrderBy(a => a.a, StringComparer.Ordinal).ToList();
        await UntilAsync(() => mlflow.Models["eu-west.churn"].Versions.Count == 2
            && mlflow.Models["eu-west.churn"].Aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => (a.Key, a.Value)).SequenceEqual(expectedAliases),
            "the retrained version and its alias in MLflow");
        var model = mlflow.Models["eu-west.churn"];
        Assert.All(model.Versions, v =>
        {
            Assert.Equal("FINISHED", v.RunStatusAtCreation);
            Assert.Contains("--no-serve-artifacts", v.Tags["churn.artifacts_missing"], StringComparison.Ordinal);
        });
        var retrained = mlflow.Runs[model.Versions[1].RunId!];
        Assert.Equal(("FINISHED", "active"), (retrained.Status, retrained.LifecycleStage));
        Assert.Equal("1", retrained.Tags["churn.parent_version"]);
        Assert.False(string.IsNullOrEmpty(retrained.UserId));
        Assert.Single(retrained.Inputs);
        Assert.Equal("eu-west/churn", Assert.Single(mlflow.Experiments.Values).Name);
        Assert.DoesNotContain(mlflow.Refused, r => r.Status != 503);

        // The server says why the files are missing: an alert, and the health details.
        await UntilAsync(async () => (await AlertsAsync(admin)).Any(a => a!["kind"]!.GetValue<string>() == "mlflow"), "an mlflow alert");
        var alert = (await AlertsAsync(admin)).First(a => a!["kind"]!.GetValue<string>() == "mlflow")!;
        Assert.Contains("MLflow cannot take the model files", alert["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var health = await (await admin.GetAsync("/health")).ReadObjectAsync();
        Assert.Contains("--no-serve-artifacts", health["mlflow"]!["artifactProblem"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ready", health["status"]!.GetValue<string>());
    }

    private static async Task<JsonArray> AlertsAsync(HttpClient admin) => (await admin.GetFromJsonAsync<JsonArray>("/alerts"))!;

    private static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    private static Task UntilAsync(Func<Task<bool>> condition, string what) => Wait.UntilAsync(() => Holds(condition), TimeSpan.FromSeconds(90), what);

    /// <summary>The double's state changes while the server writes to it; a read that meets a change is simply retried.</summary>
    private static async Task<bool> Holds(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        mlflow.Dispose();
        dataDir.Dispose();
    }
}
