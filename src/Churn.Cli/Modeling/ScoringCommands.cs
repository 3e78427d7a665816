using Churn.Cli.Registry;
using Churn.Core.Data;
using Churn.Core.Evaluation;
using Churn.Core.Scoring;

namespace Churn.Cli.Modeling;

/// <summary>churn evaluate and churn predict.</summary>
internal static class ScoringCommands
{
    public static Command Evaluate()
    {
        var model = CommonOptions.ModelReference();
        var data = CommonOptions.Data("Labelled CSV file.");
        var threshold = new Option<double?>("--threshold") { Description = "Threshold to evaluate at (default: the model's)." };
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("evaluate", "Evaluate a model on a labelled file.") { model, data, threshold, dataDir, json };
        var dialect = new DialectOptions();
        dialect.AddTo(command);
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            var loaded = await ModelLocator.LoadAsync(parse.GetRequiredValue(model), parse.GetValue(dataDir), ct);
            var dataset = DatasetLoader.Load(parse.GetRequiredValue(data), loaded.Card.Schema, LabelRequirement.Required, dialect.Resolve(parse));
            DialectNote.Write(parse.GetRequiredValue(data), dataset.ReadAs);
            var t = parse.GetValue(threshold) ?? loaded.Card.Threshold;
            if (t is < 0 or > 1)
            {
                throw new CliException("--threshold must be between 0 and 1.");
            }
            var report = Evaluator.Evaluate(loaded.Score(dataset), dataset.RequireLabels(), t);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { metrics = report, model = loaded.Card.ModelName, dataFingerprint = dataset.Fingerprint }, JsonDefaults.Options));
            }
            else
            {
                ModelTables.WriteMetrics(report, $"{Path.GetFileName(parse.GetRequiredValue(data))}: {report.Rows} rows at threshold {t:0.000}");
            }
        }));
        return command;
    }

    public static Command Predict()
    {
        var model = CommonOptions.ModelReference();
        var data = CommonOptions.Data("CSV file of customers.");
        var output = new Option<string>("--out") { Description = "Result CSV file.", Required = true };
        var contributions = new Option<bool>("--contributions")
        {
            Description = "Also write each row's exact SHAP values: shap_base and one shap_<feature> column per feature (base + their sum = the row's log-odds).",
        };
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("predict", "Score every customer in a CSV file and write a result CSV.") { model, data, output, contributions, dataDir, json };
        var dialect = new DialectOptions();
        dialect.AddTo(command);
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            var loaded = await ModelLocator.LoadAsync(parse.GetRequiredValue(model), parse.GetValue(dataDir), ct);
            var explain = parse.GetValue(contributions);
            if (explain && !loaded.CanExplain)
            {
                throw new CliException("--contributions: this model cannot give contributions (its package has no tree covers); retrain it.");
            }
            var outPath = Path.GetFullPath(parse.GetRequiredValue(output));
            var temp = outPath + ".partial";
            FileScoringSummary summary;
            using (var reader = CsvReader.Open(parse.GetRequiredValue(data), DatasetLoader.DialectFor(loaded.Card.Schema, dialect.Resolve(parse))))
            using (var writer = new StreamWriter(temp))
            {
                DialectNote.Write(parse.GetRequiredValue(data), reader.Dialect);
                summary = FileScorer.Score(loaded, reader, writer, contributions: explain);
            }
            // The result appears complete or not at all.
            File.Move(temp, outPath, overwrite: true);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { output = outPath, summary, contributionUnit = explain ? loaded.ContributionUnit : null }, JsonDefaults.Options));
            }
            else
            {
                Console.WriteLine($"Scored {summary.Scored} of {summary.Rows} rows into {outPath}: {summary.AtRisk} at risk, mean probability {summary.MeanProbability:0.000}.");
            }
            if (summary.RowErrors > 0)
            {
                Console.Error.WriteLine($"churn: {summary.RowErrors} rows could not be scored; their 'error' column names the line and column.");
            }
        }));
        return command;
    }
}
