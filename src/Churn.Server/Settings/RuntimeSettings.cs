using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Churn.Data.Settings;

namespace Churn.Server.Settings;

/// <summary>
/// The settings in force. Start-up values come from configuration (validated at start); values changed through
/// <c>PUT /config</c> are stored in the settings table, applied over them at start and swapped in at once.
/// </summary>
public sealed class RuntimeSettings(
    IOptions<ModelSettings> model,
    IOptions<MonitoringSettings> monitoring,
    IOptions<ApiSettings> api,
    StoreFactory store,
    AuditLog audit,
    TimeProvider time,
    ILogger<RuntimeSettings> log)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> Sections = new(StringComparer.Ordinal)
    {
        ["model"] = typeof(ModelSettings),
        ["monitoring"] = typeof(MonitoringSettings),
        ["api"] = typeof(ApiSettings),
    };

    private SettingsSnapshot? current;
    private readonly SemaphoreSlim writeGate = new(1, 1);

    public SettingsSnapshot Current => Volatile.Read(ref current) ?? Initial();

    public ApiSettings Api => Current.Api;

    public ModelSettings Model => Current.Model;

    public MonitoringSettings Monitoring => Current.Monitoring;

    /// <summary>Raised after an update is stored and in force, so other replicas can be told to load it.</summary>
    public event Action? Updated;

    /// <summary>
    /// The settings in force for a process without a host (the <c>churn</c> command): <paramref name="configuration"/>'s
    /// <c>Churn:Model</c>, <c>Churn:Monitoring</c> and <c>Churn:Api</c> sections over the defaults, then the values stored by
    /// <c>PUT /config</c> or the dashboard, exactly as a server starting on the same store and configuration sees them.
    /// </summary>
    /// <exception cref="ValidationException">A configured value is out of its range; the message names the setting.</exception>
    public static async Task<RuntimeSettings> LoadAsync(
        StoreFactory store, AuditLog audit, IConfiguration configuration, CancellationToken cancellationToken)
    {
        static IOptions<T> Bind<T>(IConfiguration configuration, string section) where T : class, new()
        {
            var value = configuration.GetSection(section).Get<T>() ?? new T();
            Validator.ValidateObject(value, new ValidationContext(value) { DisplayName = section }, validateAllProperties: true);
            return Options.Create(value);
        }
        var settings = new RuntimeSettings(
            Bind<ModelSettings>(configuration, SettingsRegistration.ModelSection),
            Bind<MonitoringSettings>(configuration, SettingsRegistration.MonitoringSection),
            Bind<ApiSettings>(configuration, SettingsRegistration.ApiSection),
            store, audit, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<RuntimeSettings>.Instance);
        await settings.LoadStoredAsync(cancellationToken);
        return settings;
    }

    /// <summary>Applies settings stored by earlier <c>PUT /config</c> calls; a stored value that no longer validates is skipped with a warning.</summary>
    public async Task LoadStoredAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Settings.AsNoTracking().ToListAsync(cancellationToken);
        var snapshot = Current;
        foreach (var row in rows)
        {
            var dot = row.Key.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                continue;
            }
            var patch = new JsonObject { [row.Key[..dot]] = new JsonObject { [row.Key[(dot + 1)..]] = JsonNode.Parse(row.ValueJson) } };
            var (next, errors) = Apply(snapshot, patch);
            if (errors.Count > 0)
            {
                log.LogWarning("Ignoring stored setting {Key}: {Problems}", row.Key, string.Join(" ", errors.SelectMany(e => e.Value)));
                continue;
            }
            snapshot = next;
        }
        Volatile.Write(ref current, snapshot);
    }

    /// <summary>
    /// Validates a partial update (<c>{"api": {"rate_limit": 50}}</c>); when valid, stores the changed keys, swaps the
    /// settings in and audits the change as made by <paramref name="by"/>. Returns the problems keyed by setting name
    /// (<c>api.rate_limit</c>), empty on success.
    /// </summary>
    public async Task<(SettingsSnapshot Settings, Dictionary<string, string[]> Errors, IReadOnlyList<string> Changed)> UpdateAsync(
        JsonElement patch, AuditActor by, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            var node = patch.ValueKind == JsonValueKind.Object ? JsonObject.Create(patch)! : null;
            if (node is null)
            {
                return (Current, new() { ["$"] = ["The body must be a JSON object such as {\"api\": {\"rate_limit\": 50}}."] }, []);
            }
            var (next, errors) = Apply(Current, node);
            if (errors.Count > 0)
            {
                return (Current, errors, []);
            }
            var changed = new List<string>();
            await using var db = store.CreateDbContext();
            foreach (var (section, values) in node)
            {
                foreach (var (key, value) in values!.AsObject())
                {
                    var name = $"{section}.{key}";
                    var row = await db.Settings.SingleOrDefaultAsync(s => s.Key == name, cancellationToken);
                    if (row is null)
                    {
                        row = new Setting { Key = name };
                        db.Settings.Add(row);
                    }
                    row.ValueJson = value?.ToJsonString() ?? "null";
                    row.UpdatedAt = time.GetUtcNow();
                    row.UpdatedBy = by.Name;
                    changed.Add(name);
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            Volatile.Write(ref current, next);
            await audit.RecordAsync(by, "config.update", string.Join(",", changed), patch.Clone());
            Updated?.Invoke();
            return (next, errors, changed);
        }
        finally
        {
            writeGate.Release();
        }
    }

    private SettingsSnapshot Initial()
    {
        var initial = new SettingsSnapshot(model.Value, monitoring.Value, api.Value);
        return Interlocked.CompareExchange(ref current, initial, null) ?? initial;
    }

    private static (SettingsSnapshot Next, Dictionary<string, string[]> Errors) Apply(SettingsSnapshot snapshot, JsonObject patch)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var sections = new Dictionary<string, object>
        {
            ["model"] = snapshot.Model,
            ["monitoring"] = snapshot.Monitoring,
            ["api"] = snapshot.Api,
        };
        foreach (var (sectionName, values) in patch)
        {
            if (!Sections.TryGetValue(sectionName, out var type))
            {
                errors[sectionName] = [$"is not a settings section; use {string.Join(", ", Sections.Keys)}."];
                continue;
            }
            if (values is not JsonObject fields)
            {
                errors[sectionName] = ["must be an object of settings."];
                continue;
            }
            // Work on a copy, so a failed update leaves the settings in force untouched.
            var copy = JsonSerializer.SerializeToNode(sections[sectionName], type, Json)!.AsObject();
            var properties = type.GetProperties().ToDictionary(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name, StringComparer.Ordinal);
            foreach (var (key, value) in fields)
            {
                var path = $"{sectionName}.{key}";
                if (!properties.TryGetValue(key, out var property))
                {
                    errors[path] = [$"is not a setting; {sectionName} has {string.Join(", ", properties.Keys)}."];
                    continue;
                }
                try
                {
                    if (value is null || JsonSerializer.Deserialize(value, property.PropertyType, Json) is null)
                    {
                        errors[path] = ["must not be null."];
                        continue;
                    }
                }
                catch (JsonException)
                {
                    errors[path] = [property.PropertyType == typeof(TimeSpan) ? "must be a duration such as \"00:00:30\"." : $"must be a {Describe(property.PropertyType)}."];
                    continue;
                }
                copy[key] = value.DeepClone();
            }
            var updated = copy.Deserialize(type, Json)!;
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(updated, new ValidationContext(updated), results, validateAllProperties: true))
            {
                foreach (var result in results)
                {
                    foreach (var member in result.MemberNames)
                    {
                        var name = type.GetProperty(member)?.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? member;
                        errors[$"{sectionName}.{name}"] = [FieldMessage(result.ErrorMessage, member)];
                    }
                }
            }
            sections[sectionName] = updated;
        }
        var next = new SettingsSnapshot((ModelSettings)sections["model"], (MonitoringSettings)sections["monitoring"], (ApiSettings)sections["api"]);
        return (next, errors);
    }

    private static string Describe(Type type) => type == typeof(int) ? "whole number" : type == typeof(double) ? "number" : type.Name;

    private static string FieldMessage(string? message, string member) =>
        (message ?? "is not valid.").Replace($"The field {member} ", "", StringComparison.Ordinal);
}

public static class SettingsRegistration
{
    public const string ModelSection = "Churn:Model";
    public const string MonitoringSection = "Churn:Monitoring";
    public const string ApiSection = "Churn:Api";

    public static IHostApplicationBuilder AddRuntimeSettings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelSettings>().BindConfiguration(ModelSection).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<MonitoringSettings>().BindConfiguration(MonitoringSection).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ApiSettings>().BindConfiguration(ApiSection).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RuntimeSettings>();
        return builder;
    }
}
