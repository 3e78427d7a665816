using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Churn.Data.Store;
using Churn.Server.Dashboard;
using Churn.Server.Hosting;
using Churn.Server.Monitoring;
using Churn.Server.Settings;
using Microsoft.Extensions.Configuration;

namespace Churn.Server.Tests.Deployment;

/// <summary>deploy/docker-compose.yml as docker-compose itself reads it (there is no Docker engine to run it here).</summary>
public sealed class ComposeFileTests
{
    private static readonly string[] Secrets = ["POSTGRES_PASSWORD", "CHURN_ADMIN_KEY", "CHURN_ADMIN_PASSWORD", "CHURN_KEY_RING_PASSWORD"];

    private static string ExampleEnvironment => Path.Combine(Tools.DeployDir, ".env.example");

    [Fact]
    public async Task TheComposeFileIsValidWithTheExampleEnvironmentFile()
    {
        var (code, _, error) = await ComposeAsync(ExampleEnvironment, "config", "-q");

        Assert.True(code == 0, $"docker-compose config failed: {error}");
    }

    [Fact]
    public async Task TheComposeFileRefusesToRenderWithoutEachOfItsSecrets()
    {
        var example = File.ReadAllLines(ExampleEnvironment);
        foreach (var secret in Secrets)
        {
            var envFile = Scratch.NewFilePath(".env");
            File.WriteAllLines(envFile, example.Where(line => !line.StartsWith(secret + "=", StringComparison.Ordinal)));
            try
            {
                var (code, _, error) = await ComposeAsync(envFile, "config", "-q");

                Assert.NotEqual(0, code);
                Assert.Contains($"set {secret} in deploy/.env", error, StringComparison.Ordinal);
            }
            finally
            {
                File.Delete(envFile);
            }
        }
    }

    [Fact]
    public async Task EveryEnvironmentVariableGivenToTheReplicasIsAnOptionTheServerReads()
    {
        var replicas = await ReplicasAsync();

        var problems = new List<string>();
        foreach (var (name, service) in replicas)
        {
            var environment = service["environment"]!.AsObject().ToDictionary(e => e.Key, e => Text(e.Value), StringComparer.Ordinal);
            foreach (var key in environment.Keys)
            {
                if (ServerEnvironment.Problem(key, environment) is { } problem)
                {
                    problems.Add($"{name}: {key}: {problem}");
                }
            }
        }

        Assert.Equal(2, replicas.Count);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task TheReplicasShareTheDataVolumeButNotTheirInstanceId()
    {
        var replicas = await ReplicasAsync();

        var ids = replicas.Select(r => Text(r.Service["environment"]!["Churn__InstanceId"])).ToList();
        var dataVolumes = replicas.Select(r => r.Service["volumes"]!.AsArray().Select(Text).Single(v => v.Contains(":/data", StringComparison.Ordinal))).ToList();

        Assert.Equal(2, replicas.Count);
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Single(dataVolumes.Distinct(StringComparer.Ordinal));
        Assert.StartsWith("churn-data:", dataVolumes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownOrIllTypedVariableIsReportedByName()
    {
        static string? Check(string name, string value) => ServerEnvironment.Problem(name, new Dictionary<string, string>(StringComparer.Ordinal) { [name] = value });

        Assert.Null(Check("Churn__Api__rate_limit", "200"));
        Assert.Null(Check("Churn__Monitoring__check_interval", "00:01:00"));
        Assert.Null(Check("Churn__Monitoring__webhook_url", ""));
        Assert.Null(Check("Dashboard__AdminUser", "ops"));
        Assert.Contains("rate_limt", Check("Churn__Api__rate_limt", "200"), StringComparison.Ordinal);
        Assert.NotNull(Check("Churn__Api__rate_limit", "lots"));
        Assert.NotNull(Check("Churn__Api__rate_limit", "0"));
        Assert.NotNull(Check("Churn__Monitoring__webhook_url", "https://hooks.example/churn"));
        Assert.NotNull(Check("Churn__Store__Provider", "mysql"));
        Assert.NotNull(Check("Churn__Mlflow__ExperimentPrefix", "x-"));
        Assert.NotNull(Check("CHURN_ADMIN_TOKEN", "x"));
    }

    private static async Task<List<(string Name, JsonObject Service)>> ReplicasAsync()
    {
        var (code, rendered, error) = await ComposeAsync(ExampleEnvironment, "config");
        Assert.True(code == 0, $"docker-compose config failed: {error}");
        // docker-compose is Python with PyYAML; the same interpreter turns the rendered file into JSON for the test.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : ChildProcesses.Require("python3", "apt-get install python3-yaml");
        var yamlFile = Scratch.NewFilePath(".yml");
        await File.WriteAllTextAsync(yamlFile, rendered);
        try
        {
            var (pyCode, json, pyError) = await Tools.RunAsync(python,
                ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", yamlFile]);
            Assert.True(pyCode == 0, pyError);
            var services = JsonNode.Parse(json)!["services"]!.AsObject();
            return [.. services
                .Where(s => Text(s.Value!["image"]).StartsWith("churn:", StringComparison.Ordinal))
                .Select(s => (s.Key, s.Value!.AsObject()))];
        }
        finally
        {
            File.Delete(yamlFile);
        }
    }

    private static Task<(int ExitCode, string Output, string Error)> ComposeAsync(string envFile, params string[] command) =>
        Tools.RunAsync(
            ChildProcesses.Require("docker-compose", "apt-get install docker-compose (test.sh and .ci/run do so as root)"),
            ["-f", Tools.ComposeFile, "--env-file", envFile, .. command],
            Tools.DeployDir,
            // The outcome must not depend on secrets exported in the shell that runs the tests.
            Secrets.ToDictionary(s => s, string? (_) => null));

    private static string Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node?.ToJsonString() ?? "";
}

/// <summary>Which environment variables the server reads, decided by binding each one to the option class that reads it.</summary>
internal static class ServerEnvironment
{
    /// <summary>Read by ASP.NET Core itself (listening addresses, forwarded headers, environment name).</summary>
    private static readonly HashSet<string> Framework = new(StringComparer.Ordinal)
    {
        "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_FORWARDEDHEADERS_ENABLED", "ASPNETCORE_ENVIRONMENT",
    };

    /// <summary>Read by name: ServerOptionsDefaults (data directory, admin key) and the dashboard registration (password).</summary>
    private static readonly HashSet<string> Named = new(StringComparer.Ordinal) { "CHURN_DATA_DIR", "CHURN_ADMIN_KEY", "CHURN_ADMIN_PASSWORD" };

    /// <summary>
    /// The store and MLflow settings are not bound from the host configuration: StoreConfiguration.Load reads exactly
    /// these three variables (the rest of those sections only from churn.json in the data directory).
    /// </summary>
    private static readonly HashSet<string> Store = new(StringComparer.Ordinal)
    {
        "Churn__Store__Provider", "Churn__Store__ConnectionString", "Churn__Mlflow__TrackingUri",
    };

    /// <summary>
    /// Null when the variable is an option the server reads and its section, bound from the whole environment, is
    /// valid; otherwise why not.
    /// </summary>
    public static string? Problem(string name, IReadOnlyDictionary<string, string> environment)
    {
        var value = environment[name];
        if (Framework.Contains(name) || Named.Contains(name) || name.StartsWith("Logging__", StringComparison.Ordinal))
        {
            return null;
        }
        if (Store.Contains(name))
        {
            return name == "Churn__Store__Provider" && !new StoreOptions { Provider = value }.IsSqlite && !new StoreOptions { Provider = value }.IsPostgres
                ? $"'{value}' is not a store provider (sqlite or postgres)."
                : null;
        }
        if (name.StartsWith("Churn__Store__", StringComparison.Ordinal) || name.StartsWith("Churn__Mlflow__", StringComparison.Ordinal))
        {
            return "the server reads this setting only from churn.json in the data directory, not from the environment.";
        }
        var path = name.Split("__");
        return path switch
        {
            ["Churn", _] => Bind<ServerOptions>("Churn", name, environment),
            ["Churn", "Model", _] => Bind<ModelSettings>("Churn:Model", name, environment),
            ["Churn", "Api", _] => Bind<ApiSettings>("Churn:Api", name, environment),
            // Two option classes share the monitoring section: the runtime settings and the alert webhook.
            ["Churn", "Monitoring", _] => Bind<MonitoringSettings>("Churn:Monitoring", name, environment) is { } problem
                ? Bind<WebhookOptions>("Churn:Monitoring", name, environment) is null ? null : problem
                : null,
            ["Dashboard", _] => Bind<DashboardOptions>("Dashboard", name, environment),
            _ => "is not an environment variable the server reads.",
        };
    }

    /// <summary>
    /// Checks that the class has the key (by its configuration name, as the binder matches it) and that the binder takes
    /// the value; then binds the class's whole section from the environment and validates it as the server does at start.
    /// </summary>
    /// <remarks>The binder's own ErrorOnUnknownConfiguration is not used: it ignores [ConfigurationKeyName] and so refuses every snake_case setting.</remarks>
    private static string? Bind<T>(string section, string name, IReadOnlyDictionary<string, string> environment) where T : class, new()
    {
        var key = name.Split("__")[^1];
        var known = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Select(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? p.Name);
        if (!known.Contains(key, StringComparer.OrdinalIgnoreCase))
        {
            return $"{typeof(T).Name} has no setting '{key}'.";
        }
        try
        {
            Configuration([(name, environment[name])]).GetSection(section).Get<T>();
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
        var prefix = section.Replace(":", "__", StringComparison.Ordinal) + "__";
        var options = Configuration(environment.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(e => (e.Key, e.Value)))
            .GetSection(section).Get<T>() ?? new T();
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            ? null
            : string.Join(" ", results.Select(r => r.ErrorMessage));
    }

    private static IConfiguration Configuration(IEnumerable<(string Name, string Value)> variables) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Name.Replace("__", ":", StringComparison.Ordinal), v.Value)))
            .Build();
}
