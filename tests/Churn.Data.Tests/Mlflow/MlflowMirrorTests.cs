using Churn.Data.Mlflow;
using Churn.Data.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Tests.Mlflow;

public sealed class MlflowMirrorTests : StoreTestBase
{
    private readonly ManualClock clock = new();

    private static MlflowOptions Mlflow(string uri, string? deployment = "prod") =>
        new() { TrackingUri = uri, Deployment = deployment, RequestTimeout = TimeSpan.FromSeconds(5) };

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
        await store.Registry.PromoteAsync("telco", version.Version, "challenger", "alice", "shadow first");
        await store.Registry.PromoteAsync("telco", version.Version, "champion", "bob", "beat v0 on lift");

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((5, 0, null), (pass.Delivered, pass.Pending, pass.LastError));
        Assert.Empty(server.Refused);
        var experiment = Assert.Single(server.Experiments.Values);
        Assert.Equal(("prod/telco", "active"), (experiment.Name, experiment.LifecycleStage));

        var run = Assert.Single(server.Runs.Values);
        Assert.Equal((experiment.Id, "FINISHED"), (run.ExperimentId, run.Status));
        Assert.Equal(started.ToUnixTimeMilliseconds(), run.StartTime);
        Assert.Equal(started.AddSeconds(42).ToUnixTimeMilliseconds(), run.EndTime);
        Assert.Equal(("alice", "alice"), (run.UserId, run.Tags["mlflow.user"]));
        Assert.Equal(runId.ToString(), run.Tags["churn.run_id"]);
        Assert.Equal(("schedule", "f1ng3r", "prod"), (run.Tags["churn.trigger"], run.Tags["churn.dataset_sha256"], run.Tags["churn.deployment"]));
        Assert.Equal(run.RunName, run.Tags["mlflow.runName"]);
        Assert.Equal(new Dictionary<string, string> { ["trainer"] = "lightgbm", ["trees"] = "200" }, run.Params);
        Assert.Equal(new Dictionary<string, double> { ["auc"] = 0.875, ["brier"] = 0.125 }, run.Metrics);
        var dataset = Assert.Single(run.Inputs)["dataset"]!;
        Assert.Equal(("f1ng3r", "local"), (dataset["digest"]!.GetValue<string>(), dataset["source_type"]!.GetValue<string>()));

        // The files go under the run's own artifact_uri, which is what the version's source names.
        Assert.Equal($"mlflow-artifacts:/{experiment.Id}/{run.Id}/artifacts", run.ArtifactUri);
        Assert.Equal("model bytes", Encoding.UTF8.GetString(server.Artifact(run.ArtifactUri, "model/model.zip")!));
        Assert.Equal("{}", Encoding.UTF8.GetString(server.Artifact(run.ArtifactUri, "model/card.json")!));
        Assert.Contains($"run_id: {run.Id}", Encoding.UTF8.GetString(server.Artifact(run.ArtifactUri, "model/MLmodel")!), StringComparison.Ordinal);

        var model = Assert.Single(server.Models.Values);
        Assert.Equal("prod.telco", model.Name);
        var mlflowVersion = Assert.Single(model.Versions);
        Assert.Equal((run.Id, $"{run.ArtifactUri}/model", "FINISHED"), (mlflowVersion.RunId, mlflowVersion.Source, mlflowVersion.RunStatusAtCreation));
        Assert.Equal(("1", "telco", "alice"), (mlflowVersion.Tags["churn.version"], mlflowVersion.Tags["churn.model"], mlflowVersion.Tags["churn.created_by"]));
        Assert.False(mlflowVersion.Tags.ContainsKey("churn.artifacts_missing"));
        Assert.Contains("registered by alice", mlflowVersion.Description, StringComparison.Ordinal);

        // The champion move took the challenger alias away; who moved each alias and why are tags of the version.
        Assert.Equal(new Dictionary<string, string> { ["champion"] = "1" }, model.Aliases);
        Assert.Equal(("bob", "beat v0 on lift"), (mlflowVersion.Tags["churn.champion.moved_by"], mlflowVersion.Tags["churn.champion.reason"]));
        Assert.Equal(("alice", "shadow first"), (mlflowVersion.Tags["churn.challenger.moved_by"], mlflowVersion.Tags["churn.challenger.reason"]));
    }

    [Fact]
    public async Task AVersionIsSentOnlyAfterItsRunHasFinishedAndTheRegisteredModelIsCreatedOnce()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        // The order of a real training: the version is registered while its run is still running, then the run ends.
        var runId = await store.Runs.StartAsync("telco");
        var first = await store.Registry.RegisterAsync("telco", runId, WritePackage("v1"), "{}", "alice");

        var early = await store.Mirror.DeliverPendingAsync();
        Assert.Equal((0, 1, null), (early.Delivered, early.Pending, early.LastError));
        Assert.Empty(server.Requests);

        await store.Runs.FinishAsync(runId, new Dictionary<string, double> { ["auc"] = 0.8 });
        await store.Registry.PromoteAsync("telco", first.Version, "champion", "alice");
        Assert.Equal(3, (await store.Mirror.DeliverPendingAsync()).Delivered);
        var version = Assert.Single(Assert.Single(server.Models.Values).Versions);
        Assert.Equal("FINISHED", version.RunStatusAtCreation);

        await RegisterAsync(store, "telco", "v2");
        Assert.Equal(2, (await store.Mirror.DeliverPendingAsync()).Delivered);
        Assert.Equal(2, server.Models["prod.telco"].Versions.Count);
        // No "already exists": the registered model was looked up, and created only the first time.
        Assert.Single(server.To("registered-models/create"));
        Assert.DoesNotContain(server.Refused, r => r.ErrorCode == "RESOURCE_ALREADY_EXISTS");
    }

    [Fact]
    public async Task AnOperationThatFailsHoldsBackOnlyWhatNeedsIt()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var broken = await RegisterAsync(store, "alpha", "alpha v1");
        var healthy = await RegisterAsync(store, "beta", "beta v1");
        await store.Registry.PromoteAsync("alpha", broken.Version, "champion", "alice");
        await store.Registry.PromoteAsync("beta", healthy.Version, "champion", "alice");
        // alpha's package is gone from disk: its version cannot be sent, and its champion move needs that version.
        File.Delete(Path.Combine(store.DataDir, broken.PackagePath));

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.NotNull(pass.LastError);
        Assert.Equal(4, pass.Delivered);
        Assert.Equal(new Dictionary<string, string> { ["champion"] = "1" }, server.Models["prod.beta"].Aliases);
        Assert.Equal(2, server.Runs.Values.Count(r => r.Status == "FINISHED"));
        Assert.False(server.Models.ContainsKey("prod.alpha"));
        await using var db = store.CreateDbContext();
        var waiting = await db.MlflowOutbox.Where(o => o.DeliveredAt == null).OrderBy(o => o.Id).ToListAsync();
        Assert.Equal([("model-version", 1), ("alias-set", 0)], waiting.Select(o => (o.Kind, o.Attempts)));
    }

    [Fact]
    public async Task FilesGoUnderTheRunsArtifactUriAndAnArtifactRootOutsideTheProxyIsReportedWhileEverythingElseIsSent()
    {
        using var server = new FakeMlflowServer(new MlflowServerSettings(DefaultArtifactRoot: "s3://team-bucket/mlflow"));
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var version = await RegisterAsync(store, "telco", "bytes");
        await store.Registry.PromoteAsync("telco", version.Version, "champion", "alice");

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((3, 0), (pass.Delivered, pass.Pending));
        Assert.Contains("s3://team-bucket/mlflow/1/", pass.ArtifactProblem, StringComparison.Ordinal);
        Assert.Contains("cannot take the model files", pass.Describe(), StringComparison.Ordinal);
        Assert.Empty(server.Artifacts);
        Assert.DoesNotContain(server.Requests, r => r.Method == "PUT");
        var run = Assert.Single(server.Runs.Values);
        var registered = Assert.Single(server.Models["prod.telco"].Versions);
        Assert.Equal($"s3://team-bucket/mlflow/1/{run.Id}/artifacts/model", registered.Source);
        Assert.Contains("not served by the tracking server", registered.Tags["churn.artifacts_missing"], StringComparison.Ordinal);
        Assert.Equal("1", server.Models["prod.telco"].Aliases["champion"]);
        var status = await store.Mirror.StatusAsync();
        Assert.Equal((0, 1), (status!.Pending, status.GivenUp));
        Assert.Contains("s3://team-bucket", status.ArtifactProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerWithoutTheArtifactProxyGetsRunsVersionsAndAliasesAndTheFilesOnceItServesThem()
    {
        var port = LoopbackPorts.Free();
        var settings = new MlflowServerSettings(ServeArtifacts: false, DefaultArtifactRoot: "mlflow-artifacts:/");
        FakeMlflowServer server = new(port, settings);
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var version = await RegisterAsync(store, "telco", "bytes");
        await store.Registry.PromoteAsync("telco", version.Version, "champion", "alice");

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Equal(3, pass.Delivered);
        Assert.Contains("--no-serve-artifacts", pass.ArtifactProblem, StringComparison.Ordinal);
        Assert.Contains(server.Requests, r => r.Method == "PUT" && r.Status == 503);
        Assert.Equal("FINISHED", Assert.Single(server.Runs.Values).Status);
        Assert.Equal("1", server.Models["prod.telco"].Aliases["champion"]);
        Assert.True(server.Models["prod.telco"].Versions[0].Tags.ContainsKey("churn.artifacts_missing"));
        Assert.Equal(1, (await store.Mirror.StatusAsync())!.Pending);

        // The server is restarted with the proxy on (its store kept): the waiting files go up and the tag goes away.
        var experiments = server.Experiments;
        var runs = server.Runs;
        var models = server.Models;
        server.Dispose();
        using var serving = new FakeMlflowServer(port, settings with { ServeArtifacts = true });
        foreach (var (id, e) in experiments)
        {
            serving.Experiments[id] = e;
        }
        foreach (var (id, r) in runs)
        {
            serving.Runs[id] = r;
        }
        foreach (var (name, m) in models)
        {
            serving.Models[name] = m;
        }
        clock.Advance(TimeSpan.FromMinutes(1));
        var later = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((1, 0, null), (later.Delivered, later.Pending, later.ArtifactProblem));
        var run = Assert.Single(serving.Runs.Values);
        Assert.Equal("bytes", Encoding.UTF8.GetString(serving.Artifact(run.ArtifactUri, "model/model.zip")!));
        Assert.False(serving.Models["prod.telco"].Versions[0].Tags.ContainsKey("churn.artifacts_missing"));
        Assert.Null((await store.Mirror.StatusAsync())!.ArtifactProblem);
    }

    [Fact]
    public async Task AnExperimentOrRunDeletedInMlflowIsRestoredAndMirroringGoesOn()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        await RegisterAsync(store, "telco", "v1");
        await store.Mirror.DeliverPendingAsync();
        server.DeleteExperiment("prod/telco");

        var second = await RegisterAsync(store, "telco", "v2");
        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((2, 0, null), (pass.Delivered, pass.Pending, pass.LastError));
        Assert.Equal("active", Assert.Single(server.Experiments.Values).LifecycleStage);
        Assert.Equal(2, server.Runs.Values.Count(r => r.Status == "FINISHED"));

        // A run deleted in MLflow before its version was sent is restored, then the version registers against it.
        var runId = await store.Runs.StartAsync("telco");
        await store.Runs.FinishAsync(runId, new Dictionary<string, double> { ["auc"] = 0.9 });
        await store.Mirror.DeliverPendingAsync();
        var mlflowRunId = server.Runs.Values.Single(r => r.Metrics.GetValueOrDefault("auc") == 0.9).Id;
        server.DeleteRun(mlflowRunId);
        await store.Registry.RegisterAsync("telco", runId, WritePackage("v3"), "{}", "alice");
        await store.Registry.PromoteAsync("telco", second.Version, "champion", "alice");

        var after = await store.Mirror.DeliverPendingAsync();

        Assert.Equal((2, 0, null), (after.Delivered, after.Pending, after.LastError));
        Assert.Equal("active", server.Runs[mlflowRunId].LifecycleStage);
        Assert.Equal(mlflowRunId, server.Models["prod.telco"].Versions[2].RunId);
        Assert.Empty(server.Refused);
    }

    [Fact]
    public async Task NonFiniteMetricsAreSentAsMlflowStoresThem()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        var runId = await store.Runs.StartAsync("telco");
        await store.Runs.FinishAsync(runId, new Dictionary<string, double>
        {
            ["precision"] = double.NaN,
            ["logLoss"] = double.PositiveInfinity,
            ["margin"] = double.NegativeInfinity,
            ["auc"] = 0.5,
        });

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Null(pass.LastError);
        var metrics = Assert.Single(server.Runs.Values).Metrics;
        Assert.True(double.IsNaN(metrics["precision"]));
        Assert.Equal((double.PositiveInfinity, double.NegativeInfinity, 0.5), (metrics["logLoss"], metrics["margin"], metrics["auc"]));
        Assert.True(double.IsNaN((await store.Runs.GetAsync(runId))!.Metrics["precision"]));
    }

    [Fact]
    public async Task KeysMlflowWouldRefuseAreRewrittenIntoDistinctKeysItAccepts()
    {
        using var server = new FakeMlflowServer();
        using var store = await OpenAsync(Mlflow(server.Uri), clock);
        string[] awkward = ["a//b", "a/", "x/../y", "./z", "/lead", "..hidden", "a/b", "a_b", "a:b", "tenure (months)", "naïve", new string('k', 300) + "/"];
        var runId = await store.Runs.StartAsync("telco", parameters: awkward.ToDictionary(k => k, k => k));
        await store.Runs.FinishAsync(runId, awkward.ToDictionary(k => k, _ => 1.0));

        var pass = await store.Mirror.DeliverPendingAsync();

        Assert.Null(pass.LastError);
        Assert.Empty(server.Refused);
        var run = Assert.Single(server.Runs.Values);
        Assert.Equal(awkward.Length, run.Params.Count);
        Assert.Equal(awkward.Order(StringComparer.Ordinal), run.Params.Values.Order(StringComparer.Ordinal));
        Assert.Equal(awkward.Length, run.Metrics.Count);
        Assert.Equal("a/b", run.Params.Single(p => p.Value == "a/b").Key);
        Assert.All(run.Params.Keys, k => Assert.InRange(k.Length, 1, 250));
    }

    [Theory]
    [InlineData("a//b", "a/b")]
    [InlineData("a/", "a")]
    [InlineData("x/../y", "x/__/y")]
    [InlineData("./z", "z")]
    [InlineData("...", "___")]
    [InlineData("", "_")]
    [InlineData("/", "_")]
    [InlineData("auc (test)", "auc _test_")]
    public void KeysFollowMlflowsNameRules(string key, string expected) => Assert.Equal(expected, MlflowNames.Key(key));

    [Fact]
    public async Task TwoDeploymentsOnOneMlflowServerKeepTheirOwnExperimentsModelsAndAliases()
    {
        using var server = new FakeMlflowServer();
        using var first = await OpenAsync(Mlflow(server.Uri, deployment: null), clock);
        using var second = await OpenAsync(Mlflow(server.Uri, deployment: null), clock, Dir.Combine("second"));
        foreach (var store in new[] { first, second })
        {
            var version = await RegisterAsync(store, "churn", "bytes");
            await store.Registry.PromoteAsync("churn", version.Version, "champion", "alice");
            Assert.Null((await store.Mirror.DeliverPendingAsync()).LastError);
        }

        Assert.Equal(2, server.Experiments.Count);
        Assert.Equal(2, server.Models.Count);
        Assert.All(server.Models.Values, m =>
        {
            Assert.Equal("1", Assert.Single(m.Versions).Version);
            Assert.Equal("1", m.Aliases["champion"]);
            Assert.Matches("^churn-[0-9a-f]{8}\\.churn$", m.Name);
        });
        Assert.Empty(server.Refused);

        // The generated name is kept in the store: reopening (another process) mirrors into the same names.
        var name = server.Models.Keys.Order(StringComparer.Ordinal).ToList();
        using (var reopened = await OpenAsync(Mlflow(server.Uri, deployment: null), clock))
        {
            await RegisterAsync(reopened, "churn", "again");
            await reopened.Mirror.DeliverPendingAsync();
        }
        Assert.Equal(name, server.Models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, server.Models.Values.Sum(m => m.Versions.Count));
    }

    [Fact]
    public async Task NameTemplatesAreConfigurableAndATemplateWithoutTheModelIsRefused()
    {
        using var server = new FakeMlflowServer();
        var options = Mlflow(server.Uri, "eu");
        options.ExperimentName = "/Shared/churn-{deployment}-{model}";
        options.RegisteredModelName = "{model}_{deployment}";
        using (var store = await OpenAsync(options, clock))
        {
            await RegisterAsync(store, "telco", "bytes");
            await store.Mirror.DeliverPendingAsync();
        }
        Assert.Equal("/Shared/churn-eu-telco", Assert.Single(server.Experiments.Values).Name);
        Assert.Equal("telco_eu", Assert.Single(server.Models.Keys));

        var bad = Mlflow(server.Uri);
        bad.RegisteredModelName = "{deployment}";
        var error = await Assert.ThrowsAsync<StoreException>(() => OpenAsync(bad, clock, Dir.Combine("bad")));
        Assert.Contains("Mlflow.RegisteredModelName", error.Message, StringComparison.Ordinal);
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

        Assert.Empty(server.Refused);
        var run = Assert.Single(server.Runs.Values);
        Assert.Equal(250, run.Params.Count);
        Assert.Equal(6000, run.Params["p0"].Length);
        Assert.Equal(1500, run.Metrics.Count);
        Assert.True(server.To("runs/log-batch").Count >= 3);
    }

    [Fact]
    public async Task WithMlflowDownTrainingAndRegistrationSucceedAndTheMirrorCatchesUpLater()
    {
        var port = LoopbackPorts.Free();
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
        Assert.Single(server.Runs.Values);
        Assert.Equal("1", server.Models["prod.telco"].Aliases["champion"]);
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
        Assert.Null(await store.Mirror.StatusAsync());
    }
}
