using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Models;
using Churn.Core.Schema;
using Spectre.Console;

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
        var json = CommonOptions.Json();
        var command = new Command("drift", "Compare current data with a reference: a test per feature, the share drifted, score drift.") { current, model, reference, schemaFile, html, json };
        command.SetAction(parse =>
        {
            IReadOnlyList<FeatureProfile> profile;
            DriftReport report;
            Dataset data;
            var currentPath = parse.GetRequiredValue(current);
            if (parse.GetValue(model) is { } modelPath)
            {
                var loaded = ChurnModel.Load(modelPath);
                data = DatasetLoader.Load(currentPath, loaded.Card.Schema, LabelRequirement.Optional);
                profile = loaded.Card.Reference;
                report = DriftDetector.Detect(loaded.Card, data, loaded.Score(data));
            }
            else if (parse.GetValue(reference) is { } referencePath)
            {
                var schema = DatasetSchema.Load(parse.GetValue(schemaFile) ?? throw new CliException("--reference needs --schema FILE."));
                profile = ReferenceProfiler.Profile(DatasetLoader.Load(referencePath, schema, LabelRequirement.Optional));
                data = DatasetLoader.Load(currentPath, schema, LabelRequirement.Optional);
                report = DriftDetector.Detect(profile, data);
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
                return 0;
            }
            var table = new Table().AddColumns("feature", "test", "statistic", "p-value", "PSI", "verdict");
            foreach (var f in report.Features)
            {
                table.AddRow(Markup.Escape(f.Feature), f.Test, f.Statistic.ToString("0.####", CultureInfo.InvariantCulture),
                    f.PValue?.ToString("0.####", CultureInfo.InvariantCulture) ?? "", f.Psi.ToString("0.###", CultureInfo.InvariantCulture),
                    f.Drifted ? "[red]drifted[/]" : "[green]stable[/]");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{report.Features.Count(f => f.Drifted)} of {report.Features.Count} features drifted ({report.DriftedShare:P0}): {(report.DatasetDrift ? "[red]dataset drift[/]" : "[green]no dataset drift[/]")}");
            if (report.Score is { } score)
            {
                AnsiConsole.MarkupLine($"Score distribution: {score.Test} {score.Statistic:0.####} ({(score.Drifted ? "drifted" : "stable")})");
            }
            return 0;
        });
        return command;
    }
}
