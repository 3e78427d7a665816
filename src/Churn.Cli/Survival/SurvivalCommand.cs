using Churn.Cli.Modeling;
using Churn.Cli.Registry;
using Churn.Core.Retraining;
using Churn.Core.Schema;
using Churn.Core.Survival;
using Churn.Data.Survival;
using Churn.Data.Tracking;

namespace Churn.Cli.Survival;

/// <summary><c>churn survival</c>: time-to-churn models.</summary>
internal static class SurvivalCommand
{
    public static Command Create() => Commands.Group("survival", "Time to churn: survival models from a duration and an event column.", Train());

    private static Command Train()
    {
        var data = CommonOptions.Data("Training CSV file.");
        var schemaFile = new Option<string?>("--schema") { Description = "Survival schema JSON: a dataset schema (label = event column) with durationColumn, optional horizons and valueColumn." };
        var duration = new Option<string?>("--duration") { Description = "Duration column: time to churn or to the end of observation (when no --schema is given)." };
        var eventColumn = new Option<string?>("--event") { Description = "Event column (when no --schema is given)." };
        var eventValue = LabelValues.Option("--event-value", "Value(s) of the event column meaning 'churned'; the one other value means censored.");
        var drop = new Option<string?>("--drop") { Description = "Comma-separated columns to leave out, e.g. ones derived from the duration." };
        var id = new Option<string?>("--id") { Description = "Customer id column (default: proposed from the data)." };
        var horizons = new Option<string?>("--horizons") { Description = "Comma-separated horizons in the duration's unit (default: the schema's, else 1,3,6,12)." };
        var valueColumn = new Option<string?>("--value-column") { Description = "Numeric column holding each customer's value per duration unit, for revenue at risk." };
        var method = new Option<string>("--method") { Description = "boosted (default: discrete-time hazard with LightGBM) or cox.", DefaultValueFactory = _ => "boosted" };
        method.AcceptOnlyFromAmong("boosted", "cox");
        var cv = new Option<int>("--cv") { Description = "Also cross-validate with K folds stratified on the event." };
        var folds = CommonOptions.FoldFile();
        var seed = CommonOptions.Seed();
        var name = CommonOptions.ModelName(SurvivalOptions.DefaultModelName);
        var promote = new Option<bool>("--promote") { Description = "Make the new version the survival champion (served beside the classifier)." };
        var promoteIfBetter = new Option<bool>("--promote-if-better")
        {
            Description = "Make the new version the survival champion only if its C-index on the held-out customers beats the champion's by the promotion margin (the first one is promoted).",
        };
        var output = CommonOptions.PackageOut();
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var dialect = new DialectOptions();

        var command = new Command("train", "Train a time-to-churn model and report its C-index, integrated Brier score and calibration at each horizon.");
        Commands.AddAll(command, data, schemaFile, duration, eventColumn, eventValue, drop, id, horizons, valueColumn, method, cv, folds, seed, name, promote, promoteIfBetter, output, dataDir, json);
        dialect.AddTo(command);
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            var file = parse.GetRequiredValue(data);
            var csv = dialect.Resolve(parse);
            var k = parse.GetValue(cv);
            if (k is 1 or < 0 or > 20)
            {
                throw new CliException("--cv must be between 2 and 20.");
            }
            if (parse.GetValue(promote) && parse.GetValue(promoteIfBetter))
            {
                throw new CliException("give --promote or --promote-if-better, not both.");
            }
            var (schema, notes) = ResolveSchema(parse, file, csv, schemaFile, duration, eventColumn, eventValue, drop, id);
            if (parse.GetValue(horizons) is { } h)
            {
                schema = schema with { Horizons = ParseHorizons(h) };
            }
            if (parse.GetValue(valueColumn) is { } v)
            {
                schema = schema with { ValueColumn = v };
            }
            schema = WithOptionNames(schema);
            var survival = SurvivalData.Load(file, schema, csv);
            var longest = survival.LongestDuration;
            if (schema.Horizons.FirstOrDefault(x => x > longest) is var beyond and > 0)
            {
                var source = parse.GetValue(horizons) is not null ? "--horizons" : parse.GetValue(schemaFile) is { } given ? $"horizons in {given}" : "the default horizons (give others with --horizons)";
                throw new CliException($"{source}: {Invariant(beyond)} is beyond the longest observed duration ({Invariant(longest)}) in column '{schema.DurationColumn}'; choose horizons up to {Invariant(longest)}.");
            }
            var options = new SurvivalOptions
            {
                Method = parse.GetValue(method) == "cox" ? SurvivalMethod.Cox : SurvivalMethod.BoostedHazard,
                Seed = parse.GetValue(seed),
                ModelName = parse.GetValue(name)!,
            };
            var asJson = parse.GetValue(json);
            var foldFile = parse.GetValue(folds);
            var parameters = new Dictionary<string, string>
            {
                ["trainer"] = "survival-" + parse.GetValue(method),
                ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                ["duration"] = schema.DurationColumn,
                ["event"] = schema.EventColumn,
                ["dataSource"] = Path.GetFileName(file),
            };
            using var store = await StoreAccess.OpenAsync(parse.GetValue(dataDir), ct);
            var outcome = await RecordedTraining.RunAsync(store.Runs, store.Registry, store.Changes, store.DataDir, options.ModelName, RunTrigger.User, Churn.Data.Security.AuditActor.ThisMachine(),
                parse.GetValue(promote), parameters, survival.Covariates.Fingerprint, token =>
                {
                    SurvivalCrossValidation? summary = null;
                    if (k > 0 || foldFile is not null)
                    {
                        var rowFolds = foldFile is null ? null : FoldFile.Read(foldFile, survival.RowCount);
                        summary = SurvivalTrainer.CrossValidate(survival, options, k, rowFolds,
                            asJson ? null : new Progress<string>(p => Console.Error.WriteLine($"cross-validation: {p}")));
                    }
                    var model = SurvivalTrainer.Train(survival, options).Model;
                    return summary is null ? model : model.WithCard(model.Card with { CrossValidation = summary });
                }, SurvivalRegistration.Packaging, ct);
            // Retraining: the new version replaces the champion only when it ranks the held-out customers better.
            PromotionDecision? decision = null;
            var champion = outcome.Promoted;
            if (parse.GetValue(promoteIfBetter))
            {
                var test = SurvivalTrainer.Split(survival, options).Test;
                decision = await SurvivalPromotion.DecideAsync(store, options.ModelName, outcome.Version.Version, outcome.Model,
                    other => (other == schema ? survival : SurvivalData.Load(file, other, csv)).Select(test), new PromotionPolicy(), Churn.Data.Security.AuditActor.ThisMachine(), ct);
                champion = decision?.Promote ?? true;
            }
            await StoreAccess.MirrorAsync(store);
            var card = outcome.Model.Card;
            if (parse.GetValue(output) is { } outFlag)
            {
                PackageExport.Write(outFlag, outcome.Model.Save, card);
            }
            IReadOnlyList<string> allNotes = [.. notes, .. card.Notes];
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(SurvivalSummary.From(card, schema, allNotes, outcome, champion, decision), JsonDefaults.Options));
            }
            else
            {
                Write(card, allNotes);
                if (decision is not null)
                {
                    AnsiConsole.MarkupLine($"{(decision.Promote ? "Promoted" : "Not promoted")}: {Markup.Escape(decision.Reason)}.");
                }
                AnsiConsole.MarkupLine($"Registered [bold]{Markup.Escape(options.ModelName)} v{outcome.Version.Version}[/]{(champion ? " as champion" : "")} (run {outcome.RunId}).");
            }
        }));
        return command;
    }

    private static (SurvivalSchema Schema, IReadOnlyList<string> Notes) ResolveSchema(ParseResult parse, string file, Core.Data.CsvDialect? csv,
        Option<string?> schemaFile, Option<string?> duration, Option<string?> eventColumn, Option<string[]> eventValue, Option<string?> drop, Option<string?> id)
    {
        if (parse.GetValue(schemaFile) is { } path)
        {
            if (parse.GetValue(duration) is not null || parse.GetValue(eventColumn) is not null || LabelValues.Read(parse, eventValue).Count > 0)
            {
                throw new CliException("--duration, --event and --event-value apply when no --schema is given; with --schema, set durationColumn, labelColumn and positiveLabels in the schema file.");
            }
            return (SurvivalSchema.Load(path), []);
        }
        var durationColumn = parse.GetValue(duration);
        var events = parse.GetValue(eventColumn);
        var values = LabelValues.Read(parse, eventValue);
        if (durationColumn is null || events is null || values.Count == 0)
        {
            throw new CliException("give --schema FILE, or --duration COLUMN, --event COLUMN and --event-value VALUE.");
        }
        var dropped = parse.GetValue(drop)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        return SurvivalSchema.Infer(file, durationColumn, events, values, null, parse.GetValue(id), dropped, csv);
    }

    // Schema problems found with command-line values are reported against the options that gave them.
    private static SurvivalSchema WithOptionNames(SurvivalSchema schema)
    {
        try
        {
            return schema.Validated();
        }
        catch (SchemaException ex)
        {
            throw new CliException(ex.Message.Replace("horizons", "--horizons", StringComparison.Ordinal).Replace("valueColumn", "--value-column", StringComparison.Ordinal));
        }
    }

    private static double[] ParseHorizons(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new CliException("--horizons is empty: give at least one horizon, e.g. 1,3,6,12.");
        }
        var horizons = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out horizons[i]) || !double.IsFinite(horizons[i]) || horizons[i] <= 0)
            {
                throw new CliException($"--horizons: '{parts[i]}' is not a positive number.");
            }
        }
        return horizons;
    }

    private static void Write(SurvivalCard card, IReadOnlyList<string> notes)
    {
        foreach (var note in notes)
        {
            AnsiConsole.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
        }
        var cv = card.CrossValidation;
        var metrics = new Table().AddColumns("metric", "held-out test", "cross-validation (mean ± sd)");
        metrics.AddRow("C-index (Harrell)", F(card.Test.CIndex), cv is null ? "" : $"{F(cv.CIndex.Mean)} ± {F(cv.CIndex.Sd)}");
        metrics.AddRow("integrated Brier (IPCW)", F(card.Test.IntegratedBrier), cv is null ? "" : $"{F(cv.IntegratedBrier.Mean)} ± {F(cv.IntegratedBrier.Sd)}");
        AnsiConsole.Write(metrics);
        var calibration = new Table().AddColumns("horizon", "predicted churn", "observed (Kaplan–Meier)");
        foreach (var c in card.Test.Calibration)
        {
            calibration.AddRow(Invariant(c.Horizon), F(c.Predicted), F(c.Observed));
        }
        AnsiConsole.Write(calibration);
        AnsiConsole.MarkupLine($"{Markup.Escape(card.Parameters["method"])} model on {card.TrainRows} customers, tested on {card.TestRows}.");
    }

    private static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Invariant(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The machine-readable result of <c>churn survival train</c>.</summary>
internal sealed record SurvivalSummary(
    string Name, int Version, Guid RunId, bool Champion, string Method, string DurationColumn, string EventColumn, IReadOnlyList<double> Horizons,
    double CIndex, double IntegratedBrier, IReadOnlyList<HorizonCalibration> Calibration, object? Cv, IReadOnlyDictionary<string, string> Parameters,
    int TrainRows, int TestRows, IReadOnlyList<string> Notes, PromotionDecision? Promotion)
{
    public static SurvivalSummary From(SurvivalCard card, SurvivalSchema schema, IReadOnlyList<string> notes, RecordedOutcome<SurvivalModel> outcome, bool champion,
        PromotionDecision? promotion) => new(
        card.ModelName, outcome.Version.Version, outcome.RunId, champion, card.Parameters["method"], schema.DurationColumn, schema.EventColumn,
        schema.Horizons, card.Test.CIndex, card.Test.IntegratedBrier, card.Test.Calibration,
        card.CrossValidation is { } cv ? new { cv.Folds, cv.CIndex, cv.IntegratedBrier, Calibration = cv.PooledCalibration } : null,
        card.Parameters, card.TrainRows, card.TestRows, notes, promotion);
}
