using System.Text;
using Churn.Data.Mlflow;
using Churn.Data.Store;
using Churn.Data.Tests.Fixtures;
using Churn.Data.Tracking;

namespace Churn.Data.Tests.Mlflow;

public sealed class MlflowMirrorTests : StoreTestBase
{
    private readonly ManualClock clock = new();

    protected override Task<StoreOptions> StoreOptionsAsync() => Task.FromResult(new StoreOptions());

    private static MlflowOptions Mlflow(string uri) => new() { TrackingUri = uri, RequestTimeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task ARunItsRegisteredVersionAndItsAliasMovesAreMirroredAsMlflowDocumentsThem()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var started = clock.GetUtcNow();
        var runId = await store.Runs.StartAsync("telco", RunTrigger.Schedule,
            new Dictionary<string, string> { ["trainer"] = "lightgbm", ["trees"] = "200" }, datasetFingerprint: "f1ng3r");
        clock.Advance(TimeSpan.FromSeconds(42));
        await store.Runs.FinishAsync(runId, new Dictionary<string, double> { ["auc"] = 0.875, ["brier"] = 0.125 });
        var version = await store.Registry.RegisterAsync("telco", runId, WritePackage("model bytes"), "{}", "alice");
        await store.Registry.PromoteAsync("telco", version.Version, "challenger", "alice");
        await store.Registry.PromoteAsync("telco", version.Version, "champion", "alice");

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((5, 0, null), (pass.Delivered, pass.Pending, pass.LastError));
        Assert.Equal(0, await store.Mirror.PendingCountAsync());
        Assert.Equal("?experiment_name=churn-telco", server.To("experiments/get-by-name")[0].Query);
        Assert.Equal("churn-telco", server.To("experiments/create").Single().Json["name"]!.GetValue<string>());

        var create = server.To("runs/create").Single().Json;
        Assert.Equal("1", create["experiment_id"]!.GetValue<string>());
        Assert.Equal(started.ToUnixTimeMilliseconds(), create["start_time"]!.GetValue<long>());
        var tags = create["tags"]!.AsArray().ToDictionary(t => t!["key"]!.GetValue<string>(), t => t!["value"]!.GetValue<string>());
        Assert.Equal(runId.ToString(), tags["churn.run_id"]);
        Assert.Equal("schedule", tags["churn.trigger"]);
        Assert.Equal("f1ng3r", tags["churn.dataset_sha256"]);
        Assert.Equal(create["run_name"]!.GetValue<string>(), tags["mlflow.runName"]);

        var batch = server.To("runs/log-batch").Single().Json;
        Assert.Equal("mlflowrun1", batch["run_id"]!.GetValue<string>());
        var parameters = batch["params"]!.AsArray().ToDictionary(p => p!["key"]!.GetValue<string>(), p => p!["value"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["trainer"] = "lightgbm", ["trees"] = "200" }, parameters);
        var metrics = batch["metrics"]!.AsArray().Select(m => m!).ToDictionary(m => m["key"]!.GetValue<string>());
        Assert.Equal(0.875, metrics["auc"]["value"]!.GetValue<double>());
        Assert.Equal(0.125, metrics["brier"]["value"]!.GetValue<double>());
        Assert.All(metrics.Values, m =>
        {
            Assert.Equal(started.AddSeconds(42).ToUnixTimeMilliseconds(), m["timestamp"]!.GetValue<long>());
            Assert.Equal(0, m["step"]!.GetValue<long>());
        });

        var update = server.To("runs/update").Single().Json;
        Assert.Equal(("mlflowrun1", "FINISHED"), (update["run_id"]!.GetValue<string>(), update["status"]!.GetValue<string>()));
        Assert.Equal(started.AddSeconds(42).ToUnixTimeMilliseconds(), update["end_time"]!.GetValue<long>());

        var artifact = server.Requests.Single(r => r.Method == "PUT");
        Assert.Equal("/api/2.0/mlflow-artifacts/artifacts/1/mlflowrun1/artifacts/model/model.zip", artifact.Path);
        Assert.Equal("model bytes", Encoding.UTF8.GetString(artifact.RawBody));

        Assert.Equal("telco", server.To("registered-models/create").Single().Json["name"]!.GetValue<string>());
        var modelVersion = server.To("model-versions/create").Single().Json;
        Assert.Equal("telco", modelVersion["name"]!.GetValue<string>());
        Assert.Equal("mlflowrun1", modelVersion["run_id"]!.GetValue<string>());
        Assert.Equal("mlflow-artifacts:/1/mlflowrun1/artifacts/model", modelVersion["source"]!.GetValue<string>());

        var aliases = server.To("registered-models/alias");
        Assert.Equal(["POST", "POST", "DELETE"], aliases.Select(a => a.Method));
        Assert.Equal(("telco", "challenger", "1"), AliasFields(aliases[0]));
        Assert.Equal(("telco", "champion", "1"), AliasFields(aliases[1]));
        Assert.Equal("challenger", aliases[2].Json["alias"]!.GetValue<string>());
    }

    [Fact]
    public async Task LargeRunsAreLoggedInBatchesWithinMlflowLimits()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var parameters = Enumerable.Range(0, 250).ToDictionary(i => $"p{i}", i => i == 0 ? new string('x', 7000) : $"{i}");
        var metrics = Enumerable.Range(0, 1500).ToDictionary(i => $"m{i}", i => (double)i);
        var runId = await store.Runs.StartAsync("telco", parameters: parameters);
        await store.Runs.FinishAsync(runId, metrics);

        await store.Mirror.DeliverPendingAsync();

        var batches = server.To("runs/log-batch").Select(r => r.Json).ToList();
        Assert.All(batches, b =>
        {
            Assert.InRange(b["params"]!.AsArray().Count, 0, 100);
            Assert.InRange(b["metrics"]!.AsArray().Count, 0, 1000);
            Assert.InRange(b["params"]!.AsArray().Count + b["metrics"]!.AsArray().Count, 1, 1000);
        });
        var sentParams = batches.SelectMany(b => b["params"]!.AsArray()).ToDictionary(p => p!["key"]!.GetValue<string>(), p => p!["value"]!.GetValue<string>());
        Assert.Equal(250, sentParams.Count);
        Assert.Equal(6000, sentParams["p0"].Length);
        Assert.Equal(1500, batches.Sum(b => b["metrics"]!.AsArray().Count));
    }

    [Fact]
    public async Task WithMlflowDownTrainingAndRegistrationSucceedAndTheMirrorCatchesUpLater()
    {
        var port = FakeMlflowServer.FreePort();
        using var store = await OpenAsync(Mlflow($"http://127.0.0.1:{port}"), clock);
        var runId = await store.Runs.StartAsync("telco");
        await store.Runs.FinishAsync(runId, new Dictionary<string, double> { ["auc"] = 0.8 });
        var version = await store.Registry.RegisterAsync("telco", runId, WritePackage("bytes"), "{}", "alice");
        await store.Registry.PromoteAsync("telco", version.Version, "champion", "alice");

        var down = await store.Mirror.DeliverPendingAsync();
        Assert.Equal(0, down.Delivered);
        Assert.NotNull(down.LastError);
        Assert.Equal(3, await store.Mirror.PendingCountAsync());
        await using (var db = store.CreateDbContext())
        {
            var first = db.MlflowOutbox.OrderBy(o => o.Id).First();
            Assert.Equal((1, "run"), (first.Attempts, first.Kind));
            Assert.True(first.NextAttemptAt > clock.GetUtcNow());
        }

        using var server = new FakeMlflowServer(port);
        var tooEarly = await store.Mirror.DeliverPendingAsync();
        Assert.Equal(0, tooEarly.Delivered);
        Assert.Empty(server.Requests);

        clock.Advance(TimeSpan.FromMinutes(1));
        var up = await store.Mirror.DeliverPendingAsync();

        Assert.Equal(3, up.Delivered);
        Assert.Equal(0, await store.Mirror.PendingCountAsync());
        Assert.Single(server.To("runs/create"));
        Assert.Equal(("telco", "champion", "1"), AliasFields(server.To("registered-models/alias").Single()));
    }

    [Fact]
    public async Task RetryDelaysGrowExponentiallyUpToTheCap()
    {
        using var store = await OpenAsync(new MlflowOptions
        {
            TrackingUri = "http://127.0.0.1:1",
            RetryBaseDelay = TimeSpan.FromSeconds(5),
            MaxRetryDelay = TimeSpan.FromMinutes(1),
        });
        Assert.Equal(
            [5, 10, 20, 40, 60, 60],
            Enumerable.Range(1, 6).Select(a => store.Mirror.RetryDelay(a).TotalSeconds));
    }

    [Fact]
    public async Task WithoutATrackingUriNothingIsQueued()
    {
        using var store = await OpenAsync();
        await RegisterAsync(store, "telco", "bytes");
        Assert.Equal(0, await store.Mirror.PendingCountAsync());
        Assert.Equal(0, (await store.Mirror.DeliverPendingAsync()).Delivered);
    }

    private static (string, string, string) AliasFields(RecordedRequest request) => (
        request.Json["name"]!.GetValue<string>(),
        request.Json["alias"]!.GetValue<string>(),
        request.Json["version"]!.GetValue<string>());
}
