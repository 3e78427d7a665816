using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Churn.Data.Tests.Fixtures;

/// <summary>One request the MLflow double received, and the status it answered.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body, byte[] RawBody)
{
    public int Status { get; set; }

    public string? ErrorCode { get; set; }

    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>How the double is set up, as the flags of <c>mlflow server</c> would set up a real one.</summary>
/// <param name="ServeArtifacts">False is <c>--no-serve-artifacts</c>: every artifact proxy endpoint answers 503.</param>
/// <param name="DefaultArtifactRoot"><c>--default-artifact-root</c>; null is MLflow's default: <c>mlflow-artifacts:/</c>
/// when serving artifacts, else the local folder <c>./mlruns</c> (here <c>/srv/mlflow/mlruns</c>).</param>
public sealed record MlflowServerSettings(bool ServeArtifacts = true, string? DefaultArtifactRoot = null);

/// <summary>
/// A small real HTTP server on loopback that behaves like an MLflow 2.22 tracking server with its model registry, in
/// the respects the mirror depends on, and records every request. What it reproduces, each from MLflow's server code:
/// <list type="bullet">
/// <item>artifact roots: an experiment's location is the default root plus its id, a run's <c>artifact_uri</c> is
/// that plus <c>/&lt;run_id&gt;/artifacts</c>; only uploads under the proxy (<c>mlflow-artifacts:</c>) are stored;</item>
/// <item><c>--no-serve-artifacts</c>: the proxy endpoints answer 503 with MLflow's plain-text message;</item>
/// <item>lifecycle stages: deleted experiments are still found by name, their names stay taken, and runs cannot be
/// created in them; deleted runs refuse logging and updates (400 INVALID_PARAMETER_VALUE); both can be restored;</item>
/// <item>metric values: JSON numbers or the strings "NaN", "Infinity", "-Infinity"; anything else is refused;</item>
/// <item>names: param, metric and tag keys by MLflow's pattern and path rule and length; alias names; batch limits;
/// duplicate params in one batch; a param may not change its value;</item>
/// <item>"already exists": creating an experiment or registered model whose name exists answers 400
/// RESOURCE_ALREADY_EXISTS; versions of unknown registered models answer 404.</item>
/// </list>
/// </summary>
public sealed partial class FakeMlflowServer : IDisposable
{
    private const string NoServeArtifacts =
        "Endpoint: /api/2.0/mlflow-artifacts/artifacts/<path:artifact_path> disabled due to the mlflow server running with `--no-serve-artifacts`. " +
        "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`";

    private readonly LoopbackHttpServer http;
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly Lock gate = new();
    private readonly MlflowServerSettings settings;

    public FakeMlflowServer(int? port = null, MlflowServerSettings? settings = null)
    {
        this.settings = settings ?? new MlflowServerSettings();
        http = new LoopbackHttpServer(AnswerAsync, port);
        Port = http.Port;
    }

    public FakeMlflowServer(MlflowServerSettings settings)
        : this(null, settings)
    {
    }

    public int Port { get; }

    public string Uri => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    /// <summary>Requests whose path ends with <paramref name="pathEnd"/>, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> To(string pathEnd) => [.. requests.Where(r => r.Path.EndsWith(pathEnd, StringComparison.Ordinal))];

    /// <summary>
    /// Requests the double refused (status 400 and above), other than a lookup that found nothing (a GET answered 404,
    /// which is how a client learns that it must create something): the errors a real server would log.
    /// </summary>
    public IReadOnlyList<RecordedRequest> Refused => [.. requests.Where(r => r.Status >= 400 && !(r.Method == "GET" && r.Status == 404))];

    public Dictionary<string, Experiment> Experiments { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Run> Runs { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, RegisteredModel> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>Files stored through the artifact proxy, by their path under <c>mlflow-artifacts:/</c>.</summary>
    public Dictionary<string, byte[]> Artifacts { get; } = new(StringComparer.Ordinal);

    public sealed class Experiment
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required string ArtifactLocation { get; init; }
        public string LifecycleStage { get; set; } = "active";
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    }

    public sealed class Run
    {
        public required string Id { get; init; }
        public required string ExperimentId { get; init; }
        public required string ArtifactUri { get; init; }
        public string? RunName { get; set; }
        public string UserId { get; set; } = "";
        public string Status { get; set; } = "RUNNING";
        public string LifecycleStage { get; set; } = "active";
        public long StartTime { get; set; }
        public long? EndTime { get; set; }
        public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
        public List<JsonObject> Inputs { get; } = [];
    }

    public sealed class RegisteredModel
    {
        public required string Name { get; init; }
        public List<ModelVersion> Versions { get; } = [];
        public Dictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);
    }

    public sealed class ModelVersion
    {
        public required string Version { get; init; }
        public required string Source { get; init; }
        public string? RunId { get; init; }
        public string? Description { get; init; }

        /// <summary>The status of the version's run when the version was created.</summary>
        public string? RunStatusAtCreation { get; init; }
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The file at <paramref name="artifactUri"/>/<paramref name="relative"/> if it was stored through the proxy.</summary>
    public byte[]? Artifact(string artifactUri, string relative)
    {
        lock (gate)
        {
            return artifactUri.StartsWith("mlflow-artifacts:/", StringComparison.Ordinal)
                && Artifacts.TryGetValue($"{artifactUri["mlflow-artifacts:/".Length..].Trim('/')}/{relative}", out var bytes) ? bytes : null;
        }
    }

    /// <summary>Deletes an experiment and its runs as the MLflow UI does (they move to the trash, lifecycle stage "deleted").</summary>
    public void DeleteExperiment(string name)
    {
        lock (gate)
        {
            var experiment = Experiments.Values.Single(e => e.Name == name);
            experiment.LifecycleStage = "deleted";
            foreach (var run in Runs.Values.Where(r => r.ExperimentId == experiment.Id))
            {
                run.LifecycleStage = "deleted";
            }
        }
    }

    /// <summary>Deletes one run (to the trash).</summary>
    public void DeleteRun(string runId)
    {
        lock (gate)
        {
            Runs[runId].LifecycleStage = "deleted";
        }
    }

    public void Dispose() => http.Dispose();

    private async Task AnswerAsync(HttpListenerContext context, byte[] raw)
    {
        var request = new RecordedRequest(
            context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Url.Query, Encoding.UTF8.GetString(raw), raw);
        (int Status, string ContentType, string Text) answer;
        try
        {
            answer = Answer(request, context.Request.QueryString);
        }
        catch (Exception ex) when (ex is NullReferenceException or InvalidOperationException or System.Text.Json.JsonException or FormatException)
        {
            // MLflow answers a body it cannot read as the request message with 400 (parse_dict fails).
            answer = Error(400, "BAD_REQUEST", $"Malformed request: {ex.Message}");
        }
        request.Status = answer.Status;
        if (answer.Status >= 400 && answer.ContentType == "application/json")
        {
            request.ErrorCode = JsonNode.Parse(answer.Text)?["error_code"]?.GetValue<string>();
        }
        requests.Enqueue(request);
        var bytes = Encoding.UTF8.GetBytes(answer.Text);
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = answer.ContentType;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private (int, string, string) Answer(RecordedRequest request, System.Collections.Specialized.NameValueCollection query)
    {
        lock (gate)
        {
            var path = request.Path;
            const string proxy = "/api/2.0/mlflow-artifacts/artifacts";
            if (path.StartsWith(proxy, StringComparison.Ordinal))
            {
                if (!settings.ServeArtifacts)
                {
                    return (503, "text/plain", NoServeArtifacts);
                }
                if (request.Method == "PUT")
                {
                    Artifacts[System.Uri.UnescapeDataString(path[proxy.Length..].TrimStart('/'))] = request.RawBody;
                    return Ok([]);
                }
                return Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {request.Method} {path}");
            }
            const string api = "/api/2.0/mlflow/";
            if (!path.StartsWith(api, StringComparison.Ordinal))
            {
                return Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {request.Method} {path}");
            }
            return (request.Method, path[api.Length..]) switch
            {
                ("GET", "experiments/get-by-name") => GetExperimentByName(query["experiment_name"]),
                ("GET", "experiments/get") => GetExperiment(query["experiment_id"]),
                ("POST", "experiments/create") => CreateExperiment(request.Json),
                ("POST", "experiments/restore") => SetExperimentStage(request.Json, "active"),
                ("POST", "runs/create") => CreateRun(request.Json),
                ("GET", "runs/get") => GetRun(query["run_id"]),
                ("POST", "runs/restore") => SetRunStage(request.Json, "active"),
                ("POST", "runs/log-batch") => LogBatch(request.Json),
                ("POST", "runs/log-inputs") => LogInputs(request.Json),
                ("POST", "runs/update") => UpdateRun(request.Json),
                ("GET", "registered-models/get") => GetRegisteredModel(query["name"]),
                ("POST", "registered-models/create") => CreateRegisteredModel(request.Json),
                ("POST", "model-versions/create") => CreateModelVersion(request.Json),
                ("POST", "model-versions/set-tag") => SetVersionTag(request.Json),
                ("DELETE", "model-versions/delete-tag") => DeleteVersionTag(request.Json),
                ("POST", "registered-models/alias") => SetAlias(request.Json),
                ("DELETE", "registered-models/alias") => DeleteAlias(request.Json),
                _ => Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {request.Method} {path}"),
            };
        }
    }

    private (int, string, string) GetExperimentByName(string? name)
    {
        // MLflow looks experiments up by name whatever their lifecycle stage.
        var experiment = Experiments.Values.FirstOrDefault(e => e.Name == name);
        return experiment is null
            ? Error(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'")
            : Ok(new JsonObject { ["experiment"] = AsJson(experiment) });
    }

    private (int, string, string) GetExperiment(string? id) =>
        id is not null && Experiments.TryGetValue(id, out var experiment)
            ? Ok(new JsonObject { ["experiment"] = AsJson(experiment) })
            : Error(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists");

    private (int, string, string) CreateExperiment(JsonNode body)
    {
        var name = body["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name) || name.Length > 500)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", $"Invalid experiment name: '{name}'");
        }
        if (Experiments.Values.Any(e => e.Name == name))
        {
            return Error(400, "RESOURCE_ALREADY_EXISTS", $"Experiment(name={name}) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name");
        }
        var id = (Experiments.Count + 1).ToString(CultureInfo.InvariantCulture);
        var root = settings.DefaultArtifactRoot ?? (settings.ServeArtifacts ? "mlflow-artifacts:/" : "/srv/mlflow/mlruns");
        var experiment = new Experiment { Id = id, Name = name, ArtifactLocation = $"{root.TrimEnd('/')}/{id}" };
        foreach (var tag in body["tags"]?.AsArray() ?? [])
        {
            experiment.Tags[tag!["key"]!.GetValue<string>()] = tag["value"]!.GetValue<string>();
        }
        Experiments[id] = experiment;
        return Ok(new JsonObject { ["experiment_id"] = id });
    }

    private (int, string, string) SetExperimentStage(JsonNode body, string stage)
    {
        var id = body["experiment_id"]!.GetValue<string>();
        if (!Experiments.TryGetValue(id, out var experiment))
        {
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists");
        }
        experiment.LifecycleStage = stage;
        return Ok([]);
    }

    private (int, string, string) CreateRun(JsonNode body)
    {
        var experimentId = body["experiment_id"]!.GetValue<string>();
        if (!Experiments.TryGetValue(experimentId, out var experiment))
        {
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={experimentId} exists");
        }
        if (experiment.LifecycleStage != "active")
        {
            return Error(400, "INVALID_PARAMETER_VALUE", $"The experiment {experimentId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }
        var tags = body["tags"]?.AsArray() ?? [];
        if (tags.Select(t => KeyProblem("tag", t!["key"]!.GetValue<string>())).FirstOrDefault(p => p is not null) is { } problem)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", problem);
        }
        var id = Guid.NewGuid().ToString("N");
        var run = new Run
        {
            Id = id,
            ExperimentId = experimentId,
            ArtifactUri = $"{experiment.ArtifactLocation}/{id}/artifacts",
            RunName = body["run_name"]?.GetValue<string>(),
            UserId = body["user_id"]?.GetValue<string>() ?? "",
            StartTime = body["start_time"]?.GetValue<long>() ?? 0,
        };
        foreach (var tag in tags)
        {
            run.Tags[tag!["key"]!.GetValue<string>()] = tag["value"]!.GetValue<string>();
        }
        Runs[id] = run;
        return Ok(new JsonObject { ["run"] = AsJson(run) });
    }

    private (int, string, string) GetRun(string? id) =>
        id is not null && Runs.TryGetValue(id, out var run)
            ? Ok(new JsonObject { ["run"] = AsJson(run) })
            : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{id}' not found");

    private (int, string, string) SetRunStage(JsonNode body, string stage)
    {
        var id = body["run_id"]!.GetValue<string>();
        if (!Runs.TryGetValue(id, out var run))
        {
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{id}' not found");
        }
        run.LifecycleStage = stage;
        return Ok([]);
    }

    /// <summary>The run to write to, or the error MLflow gives for a missing or deleted one.</summary>
    private (Run? Run, (int, string, string) Error) ActiveRun(JsonNode body)
    {
        var id = body["run_id"]?.GetValue<string>();
        if (id is null || !Runs.TryGetValue(id, out var run))
        {
            return (null, Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{id}' not found"));
        }
        return run.LifecycleStage != "active"
            ? (null, Error(400, "INVALID_PARAMETER_VALUE", $"The run {id} must be in the 'active' state. Current state is {run.LifecycleStage}."))
            : (run, default);
    }

    private (int, string, string) LogBatch(JsonNode body)
    {
        var (run, error) = ActiveRun(body);
        if (run is null)
        {
            return error;
        }
        var parameters = body["params"]?.AsArray() ?? [];
        var metrics = body["metrics"]?.AsArray() ?? [];
        var tags = body["tags"]?.AsArray() ?? [];
        if (metrics.Count > 1000 || parameters.Count > 100 || tags.Count > 100 || metrics.Count + parameters.Count + tags.Count > 1000)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", "A batch logging request can contain at most 1000 metrics, 100 params and 100 tags, 1000 in all.");
        }
        var keys = parameters.Select(p => p!["key"]!.GetValue<string>()).ToList();
        if (keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToList() is { Count: > 0 } duplicates)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", $"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates)}].");
        }
        var problem = parameters.Select(p => KeyProblem("parameter", p!["key"]!.GetValue<string>()))
            .Concat(metrics.Select(m => KeyProblem("metric", m!["key"]!.GetValue<string>())))
            .Concat(tags.Select(t => KeyProblem("tag", t!["key"]!.GetValue<string>())))
            .FirstOrDefault(p => p is not null);
        if (problem is not null)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", problem);
        }
        var values = new List<(string Key, double Value)>();
        foreach (var metric in metrics)
        {
            if (MetricValue(metric!["value"]) is not { } value)
            {
                return Error(400, "INVALID_PARAMETER_VALUE",
                    $"Got invalid value {metric["value"]?.ToJsonString()} for metric '{metric["key"]}'. Please specify value as a valid double (64-bit floating point)");
            }
            values.Add((metric["key"]!.GetValue<string>(), value));
        }
        foreach (var p in parameters)
        {
            var key = p!["key"]!.GetValue<string>();
            var value = p["value"]!.GetValue<string>();
            if (value.Length > 6000)
            {
                return Error(400, "INVALID_PARAMETER_VALUE", $"Param value had length {value.Length}, which exceeded length limit of 6000");
            }
            if (run.Params.TryGetValue(key, out var logged) && logged != value)
            {
                return Error(400, "INVALID_PARAMETER_VALUE", $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{logged}'.");
            }
        }
        foreach (var p in parameters)
        {
            run.Params[p!["key"]!.GetValue<string>()] = p["value"]!.GetValue<string>();
        }
        foreach (var (key, value) in values)
        {
            run.Metrics[key] = value;
        }
        foreach (var tag in tags)
        {
            run.Tags[tag!["key"]!.GetValue<string>()] = tag["value"]!.GetValue<string>();
        }
        return Ok([]);
    }

    /// <summary>A metric value as protobuf's JSON parser reads a double: a number or "NaN", "Infinity", "-Infinity".</summary>
    private static double? MetricValue(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }
        if (value.TryGetValue<double>(out var number))
        {
            return number;
        }
        return value.TryGetValue<string>(out var text) ? text switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => null,
        } : null;
    }

    private (int, string, string) LogInputs(JsonNode body)
    {
        var (run, error) = ActiveRun(body);
        if (run is null)
        {
            return error;
        }
        foreach (var input in body["datasets"]?.AsArray() ?? [])
        {
            var dataset = input!["dataset"]!;
            foreach (var field in new[] { "name", "digest", "source_type", "source" })
            {
                if (string.IsNullOrEmpty(dataset[field]?.GetValue<string>()))
                {
                    return Error(400, "INVALID_PARAMETER_VALUE", $"Missing value for required parameter 'dataset.{field}'.");
                }
            }
            if (dataset["digest"]!.GetValue<string>().Length > 36 || dataset["name"]!.GetValue<string>().Length > 500)
            {
                return Error(400, "INVALID_PARAMETER_VALUE", "Dataset digest exceeds 36 characters or name exceeds 500.");
            }
            if (!run.Inputs.Any(i => i["dataset"]!["digest"]!.GetValue<string>() == dataset["digest"]!.GetValue<string>()
                && i["dataset"]!["name"]!.GetValue<string>() == dataset["name"]!.GetValue<string>()))
            {
                run.Inputs.Add(input.AsObject().DeepClone().AsObject());
            }
        }
        return Ok([]);
    }

    private (int, string, string) UpdateRun(JsonNode body)
    {
        var (run, error) = ActiveRun(body);
        if (run is null)
        {
            return error;
        }
        run.Status = body["status"]?.GetValue<string>() ?? run.Status;
        run.EndTime = body["end_time"]?.GetValue<long>() ?? run.EndTime;
        return Ok(new JsonObject { ["run_info"] = AsJson(run)["info"]!.DeepClone() });
    }

    private (int, string, string) GetRegisteredModel(string? name) =>
        name is not null && Models.TryGetValue(name, out var model)
            ? Ok(new JsonObject { ["registered_model"] = new JsonObject { ["name"] = model.Name } })
            : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found");

    private (int, string, string) CreateRegisteredModel(JsonNode body)
    {
        var name = body["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            return Error(400, "INVALID_PARAMETER_VALUE", "Registered model name cannot be empty.");
        }
        if (Models.ContainsKey(name))
        {
            return Error(400, "RESOURCE_ALREADY_EXISTS", $"Registered Model (name={name}) already exists.");
        }
        Models[name] = new RegisteredModel { Name = name };
        return Ok(new JsonObject { ["registered_model"] = new JsonObject { ["name"] = name } });
    }

    private (int, string, string) CreateModelVersion(JsonNode body)
    {
        var name = body["name"]!.GetValue<string>();
        if (!Models.TryGetValue(name, out var model))
        {
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found");
        }
        var tags = body["tags"]?.AsArray() ?? [];
        if (tags.Select(t => KeyProblem("tag", t!["key"]!.GetValue<string>())).FirstOrDefault(p => p is not null) is { } problem)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", problem);
        }
        var runId = body["run_id"]?.GetValue<string>();
        var version = new ModelVersion
        {
            Version = (model.Versions.Count + 1).ToString(CultureInfo.InvariantCulture),
            Source = body["source"]!.GetValue<string>(),
            RunId = runId,
            Description = body["description"]?.GetValue<string>(),
            RunStatusAtCreation = runId is not null && Runs.TryGetValue(runId, out var run) ? run.Status : null,
        };
        foreach (var tag in tags)
        {
            version.Tags[tag!["key"]!.GetValue<string>()] = tag["value"]!.GetValue<string>();
        }
        model.Versions.Add(version);
        return Ok(new JsonObject
        {
            ["model_version"] = new JsonObject { ["name"] = name, ["version"] = version.Version, ["source"] = version.Source, ["status"] = "READY" },
        });
    }

    private (ModelVersion? Version, (int, string, string) Error) FindVersion(JsonNode body)
    {
        var name = body["name"]!.GetValue<string>();
        var number = body["version"]!.GetValue<string>();
        var version = Models.TryGetValue(name, out var model) ? model.Versions.FirstOrDefault(v => v.Version == number) : null;
        return version is null
            ? (null, Error(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={number}) not found"))
            : (version, default);
    }

    private (int, string, string) SetVersionTag(JsonNode body)
    {
        var (version, error) = FindVersion(body);
        if (version is null)
        {
            return error;
        }
        var key = body["key"]!.GetValue<string>();
        var value = body["value"]!.GetValue<string>();
        if (KeyProblem("tag", key) is { } problem)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", problem);
        }
        if (value.Length > 5000)
        {
            return Error(400, "INVALID_PARAMETER_VALUE", $"Model version value had length {value.Length}, which exceeded length limit of 5000");
        }
        version.Tags[key] = value;
        return Ok([]);
    }

    private (int, string, string) DeleteVersionTag(JsonNode body)
    {
        var (version, error) = FindVersion(body);
        if (version is null)
        {
            return error;
        }
        var key = body["key"]!.GetValue<string>();
        return version.Tags.Remove(key)
            ? Ok([])
            : Error(404, "RESOURCE_DOES_NOT_EXIST", $"No tag with name: {key} in model version.");
    }

    private (int, string, string) SetAlias(JsonNode body)
    {
        var alias = body["alias"]!.GetValue<string>();
        if (!AliasPattern().IsMatch(alias) || alias.Length > 255 || alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || VersionAlias().IsMatch(alias))
        {
            return Error(400, "INVALID_PARAMETER_VALUE", $"Invalid alias name: '{alias}'.");
        }
        var (version, error) = FindVersion(body);
        if (version is null)
        {
            return error;
        }
        Models[body["name"]!.GetValue<string>()].Aliases[alias] = version.Version;
        return Ok([]);
    }

    private (int, string, string) DeleteAlias(JsonNode body)
    {
        var name = body["name"]!.GetValue<string>();
        if (!Models.TryGetValue(name, out var model))
        {
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found");
        }
        // MLflow deletes an alias that is not set without complaint.
        model.Aliases.Remove(body["alias"]!.GetValue<string>());
        return Ok([]);
    }

    /// <summary>
    /// MLflow's key rule (<c>_validate_param_name</c> and friends): the pattern <c>^[/\w.\- ]*$</c>, at most 250
    /// characters, and unchanged by <c>posixpath.normpath</c>, which must not give ".", start with ".." or "/".
    /// </summary>
    private static string? KeyProblem(string kind, string key)
    {
        if (!KeyPattern().IsMatch(key))
        {
            return $"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).";
        }
        var normalised = NormPath(key);
        if (normalised != key || normalised == "." || normalised.StartsWith("..", StringComparison.Ordinal) || normalised.StartsWith('/'))
        {
            return $"Invalid {kind} name: '{key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normalised}'";
        }
        return key.Length > 250 ? $"{kind} name '{key[..250]}' had length {key.Length}, which exceeded length limit of 250" : null;
    }

    /// <summary>Python's <c>posixpath.normpath</c>.</summary>
    private static string NormPath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }
        var initialSlashes = path.StartsWith('/') ? (path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal) ? 2 : 1) : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }
            if (part != ".." || (initialSlashes == 0 && parts.Count == 0) || (parts.Count > 0 && parts[^1] == ".."))
            {
                parts.Add(part);
            }
            else if (parts.Count > 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
        }
        var result = new string('/', initialSlashes) + string.Join('/', parts);
        return result.Length == 0 ? "." : result;
    }

    private static JsonObject AsJson(Experiment e) => new()
    {
        ["experiment_id"] = e.Id,
        ["name"] = e.Name,
        ["artifact_location"] = e.ArtifactLocation,
        ["lifecycle_stage"] = e.LifecycleStage,
    };

    private static JsonObject AsJson(Run r) => new()
    {
        ["info"] = new JsonObject
        {
            ["run_id"] = r.Id,
            ["run_uuid"] = r.Id,
            ["experiment_id"] = r.ExperimentId,
            ["run_name"] = r.RunName,
            ["user_id"] = r.UserId,
            ["status"] = r.Status,
            ["start_time"] = r.StartTime,
            ["artifact_uri"] = r.ArtifactUri,
            ["lifecycle_stage"] = r.LifecycleStage,
        },
        ["data"] = new JsonObject(),
    };

    private static (int, string, string) Ok(JsonObject body) => (200, "application/json", body.ToJsonString());

    private static (int, string, string) Error(int status, string code, string message) =>
        (status, "application/json", new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString());

    [GeneratedRegex(@"^[/\w.\- ]*$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^[\w\-]*$")]
    private static partial Regex AliasPattern();

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex VersionAlias();
}
