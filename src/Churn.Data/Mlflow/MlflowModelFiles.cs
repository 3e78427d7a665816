using System.Globalization;
using System.Text.Json.Nodes;
using Churn.Core.Models;
using Churn.Core.Schema;
using YamlDotNet.Serialization;

namespace Churn.Data.Mlflow;

/// <summary>
/// What MLflow needs to show a churn model as a model: the <c>MLmodel</c> file with its input and output signature,
/// and the training data as a dataset input of the run. Both follow MLflow 2.x's formats: a signature is a column
/// spec list (<c>{"type", "name", "required"}</c>) stored as a JSON string inside the YAML, and a dataset carries
/// name, digest (at most 36 characters), source type, source, schema and profile as JSON strings.
/// </summary>
public static class MlflowModelFiles
{
    /// <summary>The name MLflow's UI looks for in a model's artifact folder.</summary>
    public const string MlModelFileName = "MLmodel";

    /// <summary>The model card's artifact name.</summary>
    public const string CardFileName = Core.Models.ChurnModel.CardFileName;

    /// <summary>The artifact folder of the model inside the run, as MLflow's own log_model uses by default.</summary>
    public const string ArtifactPath = "model";

    /// <summary>The name of the single output column: the calibrated churn probability, as /invocations returns it.</summary>
    public const string OutputName = "churn_probability";

    /// <summary>MLflow's limit on a dataset digest (<c>MAX_DATASET_DIGEST_SIZE</c>).</summary>
    public const int MaxDigestLength = 36;

    private static readonly ISerializer Yaml = new SerializerBuilder().DisableAliases().Build();

    /// <summary>The card stored with a version, or null when it is not a model card (a package registered by hand).</summary>
    public static ModelCard? ReadCard(string cardJson)
    {
        try
        {
            var card = JsonSerializer.Deserialize<ModelCard>(cardJson, JsonDefaults.Options);
            return card?.Schema?.Features is null ? null : card;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>MLflow's column spec of the model's inputs: one column per feature, in schema order.</summary>
    public static JsonArray InputSpec(DatasetSchema schema) => new([.. schema.Features.Select(f => (JsonNode)new JsonObject
    {
        ["type"] = f.Kind switch
        {
            FeatureKind.Numeric => "double",
            FeatureKind.Boolean => "boolean",
            _ => "string",
        },
        ["name"] = f.Name,
        // Every feature must be present in a scoring request; an unknown value is sent as null.
        ["required"] = true,
    })]);

    /// <summary>MLflow's column spec of the model's output: the churn probability.</summary>
    public static JsonArray OutputSpec() => [new JsonObject { ["type"] = "double", ["name"] = OutputName, ["required"] = true }];

    /// <summary>
    /// The text of the <c>MLmodel</c> file. The flavour is "churn" (the package is an ML.NET model that only Churn
    /// serves), so MLflow lists and describes the model but does not try to load it with Python. Without a card
    /// (a package registered by hand) the file carries no signature.
    /// </summary>
    public static string MlModel(ModelCard? card, string packageFileName, string mlflowRunId, Guid modelUuid, DateTimeOffset created)
    {
        var flavour = new Dictionary<string, object>
        {
            ["package"] = packageFileName,
            ["card"] = CardFileName,
            ["served_by"] = "churn serve (POST /invocations)",
        };
        if (card is not null)
        {
            flavour["trainer"] = card.Trainer.ToString();
            flavour["threshold"] = card.Threshold.ToString("R", CultureInfo.InvariantCulture);
            flavour["positive_label"] = card.Schema.PositiveLabel;
        }
        var document = new Dictionary<string, object>
        {
            ["artifact_path"] = ArtifactPath,
            ["flavors"] = new Dictionary<string, object> { ["churn"] = flavour },
            ["model_uuid"] = modelUuid.ToString("N"),
            ["run_id"] = mlflowRunId,
            ["utc_time_created"] = created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        };
        if (card is not null)
        {
            document["signature"] = new Dictionary<string, object>
            {
                ["inputs"] = InputSpec(card.Schema).ToJsonString(),
                ["outputs"] = OutputSpec().ToJsonString(),
            };
        }
        return Yaml.Serialize(document);
    }

    /// <summary>
    /// The training data as one entry of runs/log-inputs, tagged as the training context. Null without a fingerprint.
    /// The digest is the start of the data's SHA-256 (MLflow allows 36 characters; the full hash is the run's
    /// <c>churn.dataset_sha256</c> tag).
    /// </summary>
    public static JsonObject? DatasetInput(string? fingerprint, string? dataSource, ModelCard? card)
    {
        if (string.IsNullOrEmpty(fingerprint))
        {
            return null;
        }
        var source = string.IsNullOrEmpty(dataSource) ? card?.DataSource : dataSource;
        var dataset = new JsonObject
        {
            ["name"] = string.IsNullOrEmpty(source) ? "training data" : Path.GetFileName(source),
            ["digest"] = fingerprint.Length <= MaxDigestLength ? fingerprint : fingerprint[..MaxDigestLength],
            ["source_type"] = "local",
            ["source"] = new JsonObject { ["uri"] = source ?? "" }.ToJsonString(),
        };
        if (card is not null)
        {
            var columns = InputSpec(card.Schema);
            columns.Add(new JsonObject { ["type"] = "string", ["name"] = card.Schema.LabelColumn, ["required"] = true });
            dataset["schema"] = new JsonObject { ["mlflow_colspec"] = columns }.ToJsonString();
            dataset["profile"] = new JsonObject
            {
                ["num_rows"] = card.TrainRows + card.TestRows,
                ["train_rows"] = card.TrainRows,
                ["test_rows"] = card.TestRows,
                ["churn_rate"] = card.TrainChurnRate,
            }.ToJsonString();
        }
        return new JsonObject
        {
            ["tags"] = new JsonArray(new JsonObject { ["key"] = "mlflow.data.context", ["value"] = "training" }),
            ["dataset"] = dataset,
        };
    }
}
