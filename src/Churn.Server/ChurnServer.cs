using Churn.Core.Models;
using Churn.Data;
using Churn.Server.ApiDocs;
using Churn.Server.Campaigns;
using Churn.Server.Coordination;
using Churn.Server.Dashboard;
using Churn.Server.Health;
using Churn.Server.Interop;
using Churn.Server.Jobs;
using Churn.Server.Mlflow;
using Churn.Server.Models;
using Churn.Server.Monitoring;
using Churn.Server.Predictions;
using Churn.Server.Retraining;
using Churn.Server.Security;
using Churn.Server.Survival;
using Churn.Server.Telemetry;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Churn.Server;

/// <summary>The server's entry point and its table of contents: what it registers and what it maps, in order.</summary>
/// <remarks>A sealed class rather than a static one so tests can name it as WebApplicationFactory's entry-point type.</remarks>
public sealed class ChurnServer
{
    private ChurnServer()
    {
    }

    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Builds the application from ASP.NET Core arguments (<c>--urls</c>, <c>--Churn:DataDir</c>, ...).</summary>
    public static WebApplication Build(string[] args)
    {
        // The application name is set rather than taken from the entry assembly, so the dashboard's static web assets
        // (found by this name) are served the same under `churn serve`, `dotnet Churn.Server.dll` and a test host.
        // Settings are read once, at start (docs/operations.md). Reloading appsettings.json on change would watch the whole
        // working directory recursively, the data folder included: one inotify watch per folder, and events to handle for
        // every write the prediction journal makes. A later argument can still turn it back on.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args],
            ApplicationName = typeof(ChurnServer).Assembly.GetName().Name,
        });
        // Outside Development, ASP.NET serves static web assets (blazor.web.js, MudBlazor's files) only from publish output.
        // `churn serve` and the tests run build output, which carries a runtime manifest pointing at those files: use it.
        if (!builder.Environment.IsDevelopment()
            && File.Exists(Path.Combine(AppContext.BaseDirectory, $"{builder.Environment.ApplicationName}.staticwebassets.runtime.json")))
        {
            builder.WebHost.UseStaticWebAssets();
        }
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        // Every request body is limited to the JSON limit unless its endpoint sets its own (the CSV upload); Kestrel's
        // default of 30 MB is far more than any JSON request needs.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize =
            builder.Configuration.GetValue<long?>($"{ServerOptions.Section}:{nameof(ServerOptions.MaxJsonBodyBytes)}") ?? new ServerOptions().MaxJsonBodyBytes);
        // Per-request framework logs drown the server's own messages; configuration can still turn them back on.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.AddStore();
        builder.AddRuntimeSettings();
        builder.AddTelemetry();
        builder.AddApiKeySecurity();
        builder.AddModelHosting();
        builder.AddScaleOut();
        builder.AddPredictions();
        builder.AddSurvival();
        builder.AddJobs();
        builder.AddRetraining();
        builder.AddMonitoring();
        builder.AddMlflowMirror();
        builder.AddCampaigns();
        builder.AddApiDocumentation();
        builder.AddDashboard();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Binding failures (a query value that is not a number, a body of the wrong shape) throw, so the one exception
        // handler answers them with ProblemDetails naming the parameter instead of a bare 400.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

        var app = builder.Build();
        app.UseInstanceHeader();
        app.UseDurablePredictions();
        app.UseRequestStats();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
            if (app.Urls.Any(u => u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
            {
                app.UseHttpsRedirection();
            }
        }
        app.UseRouting();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRuntimeRequestTimeout();
        app.UseAntiforgery();

        app.MapHealth();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Policies.Read);
        app.MapPredictions();
        app.MapFeedback();
        app.MapModels();
        app.MapJobs();
        app.MapRetrain();
        app.MapMonitoring();
        app.MapSurvivalMonitoring();
        app.MapAlerts();
        app.MapCampaigns();
        app.MapConfig();
        app.MapKeys();
        app.MapMlflowScoring();
        app.MapInferenceV2();
        app.MapApiDocumentation();
        app.MapDashboard();
        return app;
    }

    /// <summary>Runs the server until <paramref name="stopping"/> fires or the process is asked to stop; prints where to find it once ready.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken stopping = default)
    {
        output ??= Console.Out;
        WebApplication built;
        try
        {
            // Building already reads some settings (the instance header reads Churn:InstanceId), so one that fails
            // validation must be reported from here too, not crash the process.
            built = Build(args);
        }
        catch (Exception ex) when (StartupProblem(ex) is { } problem)
        {
            return await CannotStartAsync(problem);
        }
        await using var app = built;
        try
        {
            DataDirectory.EnsureWritable(app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.DataDir);
            // Hosted services (the champion start-up) run before Kestrel listens, so once StartAsync returns the model is warm.
            await app.StartAsync(stopping);
        }
        catch (Exception ex) when (StartupProblem(ex) is { } problem)
        {
            return await CannotStartAsync(problem);
        }
        app.Logger.LogInformation("Runtime: {Runtime}.", ProcessMemory.RuntimeSummary());
        if (ProcessMemory.MissingLauncherSettings() is { Count: > 0 } missing)
        {
            app.Logger.LogWarning(
                "Started without launch.sh: {Missing} not set, so the runtime sizes the collector's gen-0 budget from the CPU's cache and resident memory can be tens of MB higher. Start the server through launch.sh (docs/operations.md).",
                string.Join(" and ", missing));
        }
        PrintBanner(app, output);
        await app.WaitForShutdownAsync(stopping);
        return 0;
    }

    /// <summary>A setting or the environment is wrong: one sentence naming it and a non-zero exit, not a crash.</summary>
    private static async Task<int> CannotStartAsync(string problem)
    {
        await Console.Error.WriteLineAsync($"churn: the server cannot start: {problem}");
        return 1;
    }

    /// <summary>The message of a start-up failure the operator can fix (a missing or bad setting, the data directory, no loadable model); null for a bug.</summary>
    private static string? StartupProblem(Exception ex) => ex switch
    {
        StoreException or DataDirectoryException or ModelPackageException => ex.Message,
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        AggregateException { InnerExceptions.Count: 1 } single => StartupProblem(single.InnerExceptions[0]),
        _ => null,
    };

    private static void PrintBanner(WebApplication app, TextWriter output)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var url = addresses.FirstOrDefault() ?? DefaultUrl;
        var notes = app.Services.GetRequiredService<StartupNotes>();
        var model = app.Services.GetRequiredService<ModelHost>().Current;
        var options = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        output.WriteLine($"Churn is serving {model?.Name} v{model?.Version} on {url}");
        output.WriteLine($"  data directory: {options.DataDir}");
        output.WriteLine($"  dashboard:      {url}/   (user {notes.DashboardAdminUser})");
        output.WriteLine($"  API docs:       {url}/scalar/v1   (OpenAPI: {url}/openapi/v1.json)");
        output.WriteLine($"  authenticate:   send header {ApiKeyAuthenticationHandler.Header}: <key>");
        if (notes.GeneratedAdminKey is { } key)
        {
            output.WriteLine($"  admin key:      {key}");
            output.WriteLine("                  (shown once: only its hash is stored; set CHURN_ADMIN_KEY to choose your own)");
        }
        else
        {
            output.WriteLine("  admin key:      as set by CHURN_ADMIN_KEY or printed at first start");
        }
        if (notes.GeneratedAdminPassword is { } password)
        {
            output.WriteLine($"  admin password: {password}");
            output.WriteLine("                  (shown once: only its hash is stored; set CHURN_ADMIN_PASSWORD to choose your own)");
        }
        output.Flush();
    }
}
