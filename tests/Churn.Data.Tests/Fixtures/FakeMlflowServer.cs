using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Churn.Data.Tests.Fixtures;

/// <summary>One request the fake MLflow server received.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body, byte[] RawBody)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>
/// A small real HTTP server on loopback that answers the MLflow REST endpoints the mirror uses, as MLflow documents
/// them, and records every request for the test to inspect.
/// </summary>
public sealed class FakeMlflowServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly Dictionary<string, string> experiments = new(StringComparer.Ordinal);
    private readonly HashSet<string> registeredModels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> modelVersions = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private readonly Task loop;
    private int runs;

    public FakeMlflowServer(int? port = null)
    {
        Port = port ?? FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Uri => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    public IReadOnlyList<RecordedRequest> To(string pathEnd) => [.. requests.Where(r => r.Path.EndsWith(pathEnd, StringComparison.Ordinal))];

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's disposal exception; nothing to report.
        }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var raw = body.ToArray();
            var request = new RecordedRequest(
                context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Url.Query, Encoding.UTF8.GetString(raw), raw);
            requests.Enqueue(request);
            var (status, answer) = Answer(request, context.Request.QueryString["experiment_name"]);
            var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private (int Status, JsonObject Body) Answer(RecordedRequest request, string? experimentName)
    {
        lock (gate)
        {
            var path = request.Path;
            if (path.StartsWith("/api/2.0/mlflow-artifacts/artifacts/", StringComparison.Ordinal) && request.Method == "PUT")
            {
                return (200, []);
            }
            switch (path)
            {
                case "/api/2.0/mlflow/experiments/get-by-name":
                    return experimentName is not null && experiments.TryGetValue(experimentName, out var known)
                        ? (200, new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = known, ["name"] = experimentName } })
                        : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{experimentName}'");
                case "/api/2.0/mlflow/experiments/create":
                    var name = request.Json["name"]!.GetValue<string>();
                    var id = (experiments.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    experiments[name] = id;
                    return (200, new JsonObject { ["experiment_id"] = id });
                case "/api/2.0/mlflow/runs/create":
                    var runId = $"mlflowrun{++runs}";
                    return (200, new JsonObject
                    {
                        ["run"] = new JsonObject
                        {
                            ["info"] = new JsonObject { ["run_id"] = runId, ["experiment_id"] = request.Json["experiment_id"]!.GetValue<string>(), ["status"] = "RUNNING" },
                        },
                    });
                case "/api/2.0/mlflow/runs/log-batch":
                    return (200, []);
                case "/api/2.0/mlflow/runs/update":
                    return (200, new JsonObject { ["run_info"] = new JsonObject { ["run_id"] = request.Json["run_id"]!.GetValue<string>() } });
                case "/api/2.0/mlflow/registered-models/create":
                    var model = request.Json["name"]!.GetValue<string>();
                    return registeredModels.Add(model)
                        ? (200, new JsonObject { ["registered_model"] = new JsonObject { ["name"] = model } })
                        : Error(400, "RESOURCE_ALREADY_EXISTS", $"Registered Model (name={model}) already exists.");
                case "/api/2.0/mlflow/model-versions/create":
                    var versionOf = request.Json["name"]!.GetValue<string>();
                    var number = modelVersions[versionOf] = modelVersions.GetValueOrDefault(versionOf) + 1;
                    return (200, new JsonObject
                    {
                        ["model_version"] = new JsonObject
                        {
                            ["name"] = versionOf,
                            ["version"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            ["status"] = "READY",
                        },
                    });
                case "/api/2.0/mlflow/registered-models/alias":
                    return (200, []);
                default:
                    return Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {request.Method} {path}");
            }
        }
    }

    private static (int, JsonObject) Error(int status, string code, string message) =>
        (status, new JsonObject { ["error_code"] = code, ["message"] = message });
}
