using Churn.Core.Generation;
using Churn.Core.Quality;
using Churn.Core.Schema;
using Churn.Core.Survival;

namespace Churn.Cli.Modeling;

/// <summary>churn schema infer, churn generate and churn quality.</summary>
internal static class DataCommands
{
    public static Command Schema()
    {
        var data = CommonOptions.Data("CSV file to read.");
        var label = new Option<string>("--label") { Description = "Label column.", Required = true };
        var positive = LabelValues.Option("--positive", "Label value(s) meaning 'churned'; repeat the option or separate values with commas.", required: true);
        var negative = LabelValues.Option("--negative", "Label value(s) meaning 'stayed' (default: the one other value in the label column).");
        var dialect = new DialectOptions();
        var id = new Option<string?>("--id") { Description = "Customer id column (guessed when omitted)." };
        var drop = new Option<string?>("--drop") { Description = "Comma-separated columns to ignore." };
        var output = new Option<string?>("--out") { Description = "Write the schema here instead of stdout." };
        var duration = new Option<string?>("--duration")
        {
            Description = "Duration column of time-to-churn data: propose a survival schema (the label is the event column) and warn about columns that track the duration.",
        };
        var infer = new Command("infer", "Propose a schema from a CSV file, for review.") { data, label, positive, negative, id, drop, duration, output };
        dialect.AddTo(infer);
        infer.SetAction(parse =>
        {
            var dropped = parse.GetValue(drop)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            var (path, csv, negatives) = (parse.GetRequiredValue(data), dialect.Resolve(parse), LabelValues.Read(parse, negative));
            string json;
            int features;
            IReadOnlyList<string> notes;
            if (parse.GetValue(duration) is { } durationColumn)
            {
                var (survival, inferred) = SurvivalSchema.Infer(path, durationColumn, parse.GetRequiredValue(label), LabelValues.Read(parse, positive), negatives, parse.GetValue(id), dropped, csv);
                // Reading the data through the proposal finds bad durations now, and the covariates that track the duration.
                var read = SurvivalData.Load(path, survival, csv);
                var leaks = DurationLeakage.Check(read);
                var fitted = survival.HorizonsWithin(read.LongestDuration);
                IReadOnlyList<string> horizons = fitted == survival ? [] :
                    [$"horizons {string.Join(", ", fitted.Horizons.Select(h => h.ToString(CultureInfo.InvariantCulture)))}: the longest duration in '{durationColumn}' is {read.LongestDuration.ToString(CultureInfo.InvariantCulture)}, so the default horizons past it are left out."];
                (json, features, notes) = (fitted.ToJson(), fitted.Data.Features.Count, [.. inferred.Concat(horizons).Select(n => "note: " + n), .. leaks.Select(l => "warning: " + l)]);
            }
            else
            {
                var result = SchemaInference.Infer(path, parse.GetRequiredValue(label), LabelValues.Read(parse, positive), negatives, parse.GetValue(id), dropped, csv);
                (json, features, notes) = (result.Schema.ToJson(), result.Schema.Features.Count, [.. result.Notes.Select(n => "note: " + n)]);
            }
            if (parse.GetValue(output) is { } file)
            {
                File.WriteAllText(file, json + "\n");
                foreach (var note in notes)
                {
                    Console.Error.WriteLine(note);
                }
                Console.Error.WriteLine($"Schema written to {file}: {features} features. Review it before training.");
            }
            else
            {
                Console.WriteLine(json);
                foreach (var note in notes)
                {
                    Console.Error.WriteLine(note);
                }
            }
            return 0;
        });
        var command = new Command("schema", "Dataset schemas.");
        command.Add(infer);
        return command;
    }

    public static Command Generate()
    {
        var rows = new Option<int>("--rows") { Description = "Number of customers.", Required = true };
        var drift = new Option<double>("--drift") { Description = "Drift from 0 (reference) to 1 (shifted data and churn mechanism)." };
        var seed = CommonOptions.Seed();
        var output = new Option<string>("--out") { Description = "CSV file to write.", Required = true };
        var schemaOut = new Option<string?>("--schema-out") { Description = "Also write the data's schema here." };
        var command = new Command("generate", "Generate realistic, seeded sample customers with a known churn mechanism.") { rows, drift, seed, output, schemaOut };
        command.SetAction(parse =>
        {
            GeneratorOptions options;
            try
            {
                options = new GeneratorOptions { Rows = parse.GetValue(rows), Drift = parse.GetValue(drift), Seed = parse.GetValue(seed) };
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new CliException(ex.ParamName == nameof(GeneratorOptions.Drift) ? "--drift must be between 0 and 1." : "--rows must be at least 1.");
            }
            var path = parse.GetRequiredValue(output);
            using (var writer = new StreamWriter(path))
            {
                new CustomerGenerator().WriteCsv(options, writer);
            }
            if (parse.GetValue(schemaOut) is { } schemaPath)
            {
                CustomerGenerator.Schema.Save(schemaPath);
            }
            Console.Error.WriteLine($"Wrote {options.Rows} customers to {path}.");
            return 0;
        });
        return command;
    }

    /// <summary>Exit code of <c>churn quality</c> when the report was written but some column has no values at all.</summary>
    public const int EmptyColumnsExitCode = 2;

    public static Command Quality()
    {
        var data = CommonOptions.Data("CSV file to check.");
        var schemaFile = new Option<string?>("--schema") { Description = "Schema JSON file." };
        var model = new Option<string?>("--model") { Description = "Model package: its schema and reference profile are used." };
        var json = CommonOptions.Json();
        var command = new Command("quality", "Data-quality report for a file: missing, unparseable, out-of-range, unseen categories, duplicates, label balance.") { data, schemaFile, model, json };
        var dialect = new DialectOptions();
        dialect.AddTo(command);
        command.SetAction(parse =>
        {
            DatasetSchema schema;
            IReadOnlyList<Core.Data.FeatureProfile>? reference = null;
            if (parse.GetValue(model) is { } modelPath)
            {
                var card = ChurnModel.ReadCard(modelPath);
                schema = card.Schema;
                reference = card.Reference;
            }
            else if (parse.GetValue(schemaFile) is { } s)
            {
                schema = DatasetSchema.Load(s);
            }
            else
            {
                throw new CliException("give --schema FILE or --model PACKAGE.");
            }
            var report = DataQualityAnalyzer.Analyze(parse.GetRequiredValue(data), schema, reference, dialect.Resolve(parse));
            // A column with no value at all is a broken feed or export, not a share of missing values: it fails the check.
            var exitCode = report.EmptyColumns.Count > 0 ? EmptyColumnsExitCode : 0;
            if (report.EmptyColumns.Count > 0)
            {
                Console.Error.WriteLine($"churn: {string.Join(", ", report.EmptyColumns)} {(report.EmptyColumns.Count == 1 ? "has" : "have")} no values in any of the {report.Rows} rows.");
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, JsonDefaults.Options));
                return exitCode;
            }
            AnsiConsole.MarkupLine($"{report.Rows} rows; {report.DuplicateIds} duplicate ids; label churn share {(report.LabelPositiveShare is { } p ? p.ToString("P1", CultureInfo.InvariantCulture) : "n/a")}");
            var table = new Table().AddColumns("column", "kind", "missing", "unparseable", "out of range", "unseen categories");
            foreach (var c in report.Columns)
            {
                var missing = c.MissingShare.ToString("P1", CultureInfo.InvariantCulture);
                table.AddRow(Markup.Escape(c.Column), c.Kind.ToString(), report.EmptyColumns.Contains(c.Column) ? $"[red]{missing} (no values)[/]" : missing, c.Unparseable.ToString(CultureInfo.InvariantCulture),
                    c.OutOfRangeShare?.ToString("P1", CultureInfo.InvariantCulture) ?? "", Markup.Escape(string.Join(", ", c.UnseenCategories.Select(u => $"{u.Key} ({u.Value})"))));
            }
            AnsiConsole.Write(table);
            foreach (var issue in report.FirstIssues)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"line {issue.Line}, column {issue.Column} ('{issue.ColumnName}'): '{issue.Value}' {issue.Problem}"));
            }
            if (report.IgnoredColumns.Count > 0)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"Columns not in the schema (ignored): {string.Join(", ", report.IgnoredColumns)}"));
            }
            return exitCode;
        });
        return command;
    }
}
