using Churn.Core.Schema;
using Churn.Data.Tests.Fixtures;
using YamlDotNet.Serialization;

namespace Churn.Cli.Tests.Mlflow;

/// <summary>`churn train`, `churn models promote` and `churn models rollback` against the MLflow 2.22 double.</summary>
public sealed class MlflowMirrorCommandTests : CommandFolderTests
{
    [Fact]
    public async Task TrainingPromotionAndRollbackShowInMlflowWithTheirUserFilesSignatureDatasetAndReasons()
    {
        using var mlflow = new FakeMlflowServer();
        var data = DataDirFor(mlflow);
        var (customers, schemaFile) = await GenerateAsync();

        await RunAsync("train", "--data", customers, "--schema", schemaFile, "--trainer", "logistic", "--promote", "--data-dir", data);
        await RunAsync("train", "--data", customers, "--schema", schemaFile, "--trainer", "logistic", "--seed", "7", "--data-dir", data);
        await RunAsync("models", "promote", "churn", "2", "--reason", "better lift", "--by", "alice", "--data-dir", data);
        await RunAsync("models", "rollback", "churn", "--reason", "complaints from retention", "--by", "bob", "--data-dir", data);

        Assert.Empty(mlflow.Refused);
        var experiment = Assert.Single(mlflow.Experiments.Values);
        Assert.Matches("^churn-[0-9a-f]{8}/churn$", experiment.Name);
        var model = Assert.Single(mlflow.Models.Values);
        Assert.Equal(experiment.Name.Replace('/', '.'), model.Name);

        var schema = DatasetSchema.Load(schemaFile);
        var runs = mlflow.Runs.Values.OrderBy(r => r.StartTime).ToList();
        Assert.Equal(2, runs.Count);
        foreach (var run in runs)
        {
            Assert.Equal(("FINISHED", Environment.UserName), (run.Status, run.UserId));
            Assert.Equal(Environment.UserName, run.Tags["mlflow.user"]);
            Assert.Equal("Logistic", run.Params["trainer"]);
            Assert.InRange(run.Metrics["auc"], 0.5, 1);
            var dataset = Assert.Single(run.Inputs)["dataset"]!;
            Assert.Equal("customers.csv", dataset["name"]!.GetValue<string>());
            Assert.StartsWith(dataset["digest"]!.GetValue<string>(), run.Tags["churn.dataset_sha256"], StringComparison.Ordinal);
            var columns = JsonNode.Parse(dataset["schema"]!.GetValue<string>())!["mlflow_colspec"]!.AsArray().Select(c => c!["name"]!.GetValue<string>());
            Assert.Equal([.. schema.Features.Select(f => f.Name), schema.LabelColumn], columns);

            // The model folder under the run's artifact_uri: the package, the card and an MLmodel with its signature.
            Assert.NotNull(mlflow.Artifact(run.ArtifactUri, "model/model.zip"));
            var card = JsonNode.Parse(mlflow.Artifact(run.ArtifactUri, "model/card.json")!)!;
            Assert.Equal("churn", card["modelName"]!.GetValue<string>());
            var mlModel = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(
                Encoding.UTF8.GetString(mlflow.Artifact(run.ArtifactUri, "model/MLmodel")!));
            Assert.Equal(run.Id, mlModel["run_id"]);
            var signature = (Dictionary<object, object>)mlModel["signature"];
            var inputs = JsonNode.Parse((string)signature["inputs"])!.AsArray();
            Assert.Equal(schema.Features.Select(f => (f.Name, f.Kind switch
            {
                FeatureKind.Numeric => "double",
                FeatureKind.Boolean => "boolean",
                _ => "string",
            })), inputs.Select(i => (i!["name"]!.GetValue<string>(), i["type"]!.GetValue<string>())));
            Assert.Equal("churn_probability", JsonNode.Parse((string)signature["outputs"])![0]!["name"]!.GetValue<string>());
        }

        // Versions were registered after their runs had finished, from the files under those runs.
        Assert.Equal(runs.Select(r => (r.Id, $"{r.ArtifactUri}/model", "FINISHED")),
            model.Versions.Select(v => (v.RunId!, v.Source, v.RunStatusAtCreation!)));
        Assert.Equal(new Dictionary<string, string> { ["champion"] = "1" }, model.Aliases);
        var (first, second) = (model.Versions[0].Tags, model.Versions[1].Tags);
        Assert.Equal(("alice", "better lift"), (second["churn.champion.moved_by"], second["churn.champion.reason"]));
        Assert.Equal(("bob", "complaints from retention"), (first["churn.champion.moved_by"], first["churn.champion.reason"]));
        Assert.Contains("test AUC", model.Versions[0].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgainstAServerWithoutTheArtifactProxyTrainingSaysSoAndEverythingElseIsMirrored()
    {
        using var mlflow = new FakeMlflowServer(new MlflowServerSettings(ServeArtifacts: false));
        var data = DataDirFor(mlflow, deployment: "eu");
        var (customers, schemaFile) = await GenerateAsync();

        var train = await RunAsync("train", "--data", customers, "--schema", schemaFile, "--trainer", "logistic", "--promote", "--data-dir", data);

        Assert.Contains("MLflow cannot take the model files", train.Stderr, StringComparison.Ordinal);
        Assert.Contains("/srv/mlflow/mlruns/1/", train.Stderr, StringComparison.Ordinal);
        var run = Assert.Single(mlflow.Runs.Values);
        Assert.Equal("FINISHED", run.Status);
        Assert.NotEmpty(run.Params);
        var version = Assert.Single(mlflow.Models["eu.churn"].Versions);
        Assert.Equal($"{run.ArtifactUri}/model", version.Source);
        Assert.True(version.Tags.ContainsKey("churn.artifacts_missing"));
        Assert.Equal("1", mlflow.Models["eu.churn"].Aliases["champion"]);
        Assert.Empty(mlflow.Artifacts);

        // Someone deletes the experiment in MLflow; the next training restores it and is mirrored into it.
        mlflow.DeleteExperiment("eu/churn");
        await RunAsync("train", "--data", customers, "--schema", schemaFile, "--trainer", "logistic", "--data-dir", data);
        Assert.Equal("active", Assert.Single(mlflow.Experiments.Values).LifecycleStage);
        Assert.Equal(2, mlflow.Runs.Values.Count(r => r.Status == "FINISHED"));
        Assert.Equal(2, mlflow.Models["eu.churn"].Versions.Count);
        Assert.Empty(mlflow.Refused);
    }

    private string DataDirFor(FakeMlflowServer mlflow, string? deployment = null)
    {
        var data = Dir.Combine("churn-data");
        Directory.CreateDirectory(data);
        var section = new JsonObject { ["TrackingUri"] = mlflow.Uri };
        if (deployment is not null)
        {
            section["Deployment"] = deployment;
        }
        File.WriteAllText(Path.Combine(data, "churn.json"), new JsonObject { ["Mlflow"] = section }.ToJsonString());
        return data;
    }

    private async Task<(string Customers, string Schema)> GenerateAsync()
    {
        var customers = Dir.Combine("customers.csv");
        var schema = Dir.Combine("schema.json");
        await RunAsync("generate", "--rows", "1000", "--seed", "5", "--out", customers, "--schema-out", schema);
        return (customers, schema);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var result = await ChurnProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"churn {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result;
    }

}
