using Churn.Cli.Registry;
using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Schema;
using Churn.Server.Monitoring;
using Churn.Server.Settings;
using Microsoft.Extensions.Configuration;

namespace Churn.Cli.Modeling;

/// <summary>churn drift: reference (a model's profile or a reference file) against a current file.</summary>
internal static class DriftCommand
{
    public static Command Create()
    {
        var current = new Option<string>("--current") { Description = "CSV file of current customers.", Required = true };
        var model = new Option<string?>("--model") { Description = "Model package: its training profile is the reference, and scores are compared too." };
        var reference = new Option<string?>("--reference") { Description = "Reference CSV file (instead of --model); needs --schema." };
        var schemaFile = new Option<string?>("--schema") { Description = "Schema JSON for --reference." };
        var html = new Option<string?>("--html") { Description = "Also write an HTML report here." };
        var threshold = new Option<double>("--drift-threshold")
        {
            Description = "Share of features with a verdict (0 to 1) above which the dataset counts as drifted. Default: the store's model.drift_threshold with --data-dir or a registered --model, else 0.35.",
            DefaultValueFactory = _ => DriftOptions.DefaultDatasetDriftShare,
        };
        var minKs = new Option<int>("--min-values-ks")
        {
            Description = "Fewer current values than this give a numeric feature no verdict. Default: the store's model.drift_min_values_ks, else 30.",
            DefaultValueFactory = _ => DriftOptions.DefaultMinKsValues,
        };
        var minChi2 = new Option<int>("--min-values-chi2")
        {
            Description = "Fewer current values than this give a categorical feature no verdict. Default: the store's model.drift_min_values_chi2, else 30.",
            DefaultValueFactory = _ => DriftOptions.DefaultMinChiSquaredValues,
        };
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("drift", "Compare current data with a reference: a test per feature, the share drifted, score drift.")
        {
            current, model, reference, schemaFile, html, threshold, minKs, minChi2, dataDir, json,
        };
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            IReadOnlyList<FeatureProfile> profile;
            DriftReport report;
            Dataset data;
            var currentPath = parse.GetRequiredValue(current);
            var modelPath = parse.GetValue(model);
            // The server's settings apply when the command works on a store: the same stored values, the same verdict.
            var fromStore = parse.GetValue(dataDir) is not null || (modelPath is not null && ModelLocator.IsRegistryReference(modelPath));
            var stored = fromStore ? await StoredOptionsAsync(parse.GetValue(dataDir), ct) : new DriftOptions();
            var options = stored with
            {
                DatasetDriftShare = Explicit(parse, threshold) ?? stored.DatasetDriftShare,
                MinKsValues = Explicit(parse, minKs) ?? stored.MinKsValues,
                MinChiSquaredValues = Explicit(parse, minChi2) ?? stored.MinChiSquaredValues,
            };
            if (modelPath is not null)
            {
                var loaded = await ModelLocator.LoadAsync(modelPath, parse.GetValue(dataDir), ct);
                data = DatasetLoader.Load(currentPath, loaded.Card.Schema, LabelRequirement.Optional);
                profile = loaded.Card.Reference;
                report = DriftDetector.Detect(loaded.Card, data, loaded.Score(data), options);
            }
            else if (parse.GetValue(reference) is { } referencePath)
            {
                var schema = DatasetSchema.Load(parse.GetValue(schemaFile) ?? throw new CliException("--reference needs --schema FILE."));
                var referenceData = DatasetLoader.Load(referencePath, schema, LabelRequirement.Optional);
                profile = ReferenceProfiler.Profile(referenceData);
                data = DatasetLoader.Load(currentPath, schema, LabelRequirement.Optional);
                // With reference rows at hand, the domain classifier judges the windows jointly, beside the per-feature tests.
                report = DriftDetector.Detect(profile, data, options: options) with { Domain = DomainClassifier.Detect(referenceData, data, options) };
            }
            else
            {
                throw new CliException("give --model PACKAGE or --reference FILE --schema FILE.");
            }
            if (parse.GetValue(html) is { } htmlPath)
            {
                File.WriteAllText(htmlPath, DriftHtmlReport.Render(report, profile, data, $"Drift of {Path.GetFileName(currentPath)}"));
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, JsonDefaults.Options));
                return;
            }
            // Feature names and verdicts stay whole (people search for them); the numbers wrap in a narrow console.
            var table = new Table().AddColumn(new TableColumn("feature").NoWrap()).AddColumns("test", "statistic", "p-value", "PSI", "missing")
                .AddColumn(new TableColumn("verdict").NoWrap());
            foreach (var f in report.Features)
            {
                table.AddRow(Markup.Escape(f.Feature), f.Test, Number(f.Statistic, "0.####"), Number(f.PValue, "0.####"), Number(f.Psi, "0.###"),
                    Markup.Escape(Missing(f)), Verdict(f));
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(Markup.Escape(report.Summary()));
            AnsiConsole.MarkupLine(Markup.Escape("Domain classifier: " + (report.Domain?.Summary() ?? "not run (it needs reference rows: give --reference FILE --schema FILE)")));
            if (report.Score is { } score)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"Score distribution: {score.Test} {Number(score.Statistic, "0.####")} ({score.Reason ?? (score.Drifted ? "drifted" : "stable")})"));
            }
        }));
        return command;
    }

    /// <summary>The value of an option the user gave; null when it was left at its default.</summary>
    private static T? Explicit<T>(ParseResult parse, Option<T> option)
        where T : struct =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    /// <summary>The drift settings in force on the data directory's server: the one settings model (environment over defaults, then stored <c>model.*</c> values).</summary>
    private static async Task<DriftOptions> StoredOptionsAsync(string? dataDir, CancellationToken ct)
    {
        using var store = await StoreAccess.OpenAsync(dataDir, ct);
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var settings = await RuntimeSettings.LoadAsync(store.Contexts, store.Audit, configuration, ct);
        return MonitoringCheck.DriftOptionsFor(settings.Model);
    }

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "";

    /// <summary>The current missing share; the reference's share is in the summary line, the JSON and the HTML.</summary>
    private static string Missing(FeatureDrift f) => string.Create(CultureInfo.InvariantCulture, $"{f.CurrentMissingShare * 100:0.#} %");

    private static string Verdict(FeatureDrift f) => f.Verdict switch
    {
        FeatureVerdict.Drifted => "[red]drifted[/]",
        FeatureVerdict.Stable => "[green]stable[/]",
        FeatureVerdict.NoValues => "[yellow]no values[/]",
        _ => "[yellow]too few values[/]",
    };
}
