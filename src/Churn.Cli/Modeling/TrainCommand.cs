using Churn.Cli.Registry;
using Churn.Core.Data;
using Churn.Core.Evaluation;
using Churn.Core.Training;
using Churn.Data.Tracking;

namespace Churn.Cli.Modeling;

internal static class TrainCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data("Training CSV file.");
        var schema = new SchemaSource();
        var trainer = new Option<string>("--trainer") { Description = "lightgbm (default), fasttree or logistic.", DefaultValueFactory = _ => "lightgbm" };
        trainer.AcceptOnlyFromAmong("lightgbm", "fasttree", "logistic");
        var cv = new Option<int>("--cv") { Description = "Also cross-validate the recipe with K stratified folds." };
        var folds = CommonOptions.FoldFile();
        var seed = CommonOptions.Seed();
        var calibration = new Option<string>("--calibration") { Description = "platt (default), isotonic or none.", DefaultValueFactory = _ => "platt" };
        calibration.AcceptOnlyFromAmong("platt", "isotonic", "none");
        var value = new Option<double?>("--customer-value") { Description = "Value of a retained customer: choose the threshold by expected profit." };
        var cost = new Option<double>("--contact-cost") { Description = "Cost of one retention contact.", DefaultValueFactory = _ => 10 };
        var success = new Option<double>("--success-rate") { Description = "Share of contacted churners who stay.", DefaultValueFactory = _ => 0.3 };
        var output = CommonOptions.PackageOut();
        var promote = new Option<bool>("--promote") { Description = "Make the new version the champion." };
        var name = CommonOptions.ModelName(TrainingOptions.DefaultModelName);
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();

        var dialect = new DialectOptions();
        var command = new Command("train", "Train a churn model on a CSV file and write its package and card.");
        command.Add(data);
        schema.AddTo(command);
        dialect.AddTo(command);
        Commands.AddAll(command, trainer, cv, folds, seed, calibration, value, cost, success, output, promote, name, dataDir, json);
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            var file = parse.GetRequiredValue(data);
            var csv = dialect.Resolve(parse);
            var (datasetSchema, notes) = schema.Resolve(parse, file, csv);
            var asJson = parse.GetValue(json);
            BusinessValue? business = null;
            if (parse.GetValue(value) is { } v)
            {
                business = new BusinessValue(v, parse.GetValue(cost), parse.GetValue(success));
                if (v < 0 || business.ContactCost < 0 || business.ContactSuccessRate is < 0 or > 1)
                {
                    throw new CliException("--customer-value and --contact-cost must be >= 0 and --success-rate between 0 and 1.");
                }
            }
            var options = new TrainingOptions
            {
                Trainer = Enum.Parse<TrainerKind>(parse.GetValue(trainer)!, ignoreCase: true),
                Seed = parse.GetValue(seed),
                Calibration = parse.GetValue(calibration)!,
                BusinessValue = business,
                DataSource = Path.GetFileName(file),
                ModelName = parse.GetValue(name)!,
            };
            var k = parse.GetValue(cv);
            var foldFile = parse.GetValue(folds);
            if (k is 1 or < 0 or > 20)
            {
                throw new CliException("--cv must be between 2 and 20.");
            }

            var dataset = DatasetLoader.Load(file, datasetSchema, LabelRequirement.Required, csv);
            if (notes.Count == 0)
            {
                DialectNote.Write(file, dataset.ReadAs);
            }
            using var store = await StoreAccess.OpenAsync(parse.GetValue(dataDir), ct);
            var outcome = await RecordedTraining.RunAsync(store.Runs, store.Registry, store.Changes, store.DataDir, options.ModelName, RunTrigger.User,
                Churn.Data.Security.AuditActor.ThisMachine(), parse.GetValue(promote),
                RecordedTraining.Parameters(options, options.DataSource), dataset.Fingerprint, token =>
                {
                    CrossValidationSummary? summary = null;
                    TrainingResult? result = null;
                    CliProgress.Run(!asJson, "Training", progress =>
                    {
                        if (k > 0 || foldFile is not null)
                        {
                            var rowFolds = foldFile is null ? null : FoldFile.Read(foldFile, dataset.RowCount);
                            summary = ChurnTrainer.CrossValidate(dataset, options, k, rowFolds, new Progress<TrainingProgress>(p => progress(p with { Fraction = p.Fraction * 0.8 })), token);
                        }
                        var offset = summary is null ? 0 : 0.8;
                        result = ChurnTrainer.Train(dataset, options, new Progress<TrainingProgress>(p => progress(p with { Fraction = offset + p.Fraction * (1 - offset) })), token);
                    });
                    return summary is null ? result!.Model : result!.Model.WithCrossValidation(summary);
                }, RecordedTraining.Classifier, ct);
            await StoreAccess.MirrorAsync(store);
            var model = outcome.Model;
            var packagePath = outcome.Version.PackagePath;
            if (parse.GetValue(output) is { } outFlag)
            {
                packagePath = PackageExport.Write(outFlag, model.Save, model.Card);
            }

            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(TrainingSummary.From(model.Card, packagePath, notes, outcome), JsonDefaults.Options));
            }
            else
            {
                foreach (var note in notes)
                {
                    AnsiConsole.MarkupLine($"[grey]schema:[/] {Markup.Escape(note)}");
                }
                ModelTables.Write(model.Card);
                AnsiConsole.MarkupLine($"Registered [bold]{Markup.Escape(options.ModelName)} v{outcome.Version.Version}[/]{(outcome.Promoted ? " as champion" : "")} (run {outcome.RunId}); package at {Markup.Escape(packagePath)}");
            }
        }));
        return command;
    }
}

/// <summary>The machine-readable result of a training.</summary>
internal sealed record TrainingSummary(
    string Model, string Name, int Version, Guid RunId, bool Champion, string Trainer, double Threshold, string ThresholdPolicy, object Metrics, object? Cv,
    IReadOnlyDictionary<string, string> Parameters, double TrainingSeconds, int TrainRows, int TestRows, IReadOnlyList<string> SchemaNotes)
{
    public static TrainingSummary From(ModelCard card, string path, IReadOnlyList<string> notes, RecordedOutcome<ChurnModel> outcome)
    {
        var m = card.Metrics;
        var metrics = new
        {
            m.Auc,
            m.AucPr,
            m.LogLoss,
            m.Brier,
            m.F1,
            m.Accuracy,
            m.Precision,
            m.Recall,
            UncalibratedBrier = card.UncalibratedBrier,
        };
        object? cv = card.CrossValidation is { } c
            ? new { c.Folds, Auc = new { c.Auc.Mean, c.Auc.Sd, c.Auc.Folds }, AucPr = new { c.AucPr.Mean, c.AucPr.Sd }, LogLoss = new { c.LogLoss.Mean, c.LogLoss.Sd }, Brier = new { c.Brier.Mean, c.Brier.Sd } }
            : null;
        return new TrainingSummary(path, card.ModelName, outcome.Version.Version, outcome.RunId, outcome.Promoted, card.Trainer.ToString().ToLowerInvariant(), card.Threshold, card.ThresholdPolicy, metrics, cv, card.Parameters, card.TrainingSeconds, card.TrainRows, card.TestRows, notes);
    }
}

/// <summary>Reads a 'row,fold' file (row 0 = first data row).</summary>
internal static class FoldFile
{
    public static int[] Read(string path, int rows)
    {
        using var reader = CsvReader.Open(path);
        var rowCol = reader.ColumnIndex("row");
        var foldCol = reader.ColumnIndex("fold");
        if (rowCol < 0 || foldCol < 0)
        {
            throw new CliException($"{path}: the header must have 'row' and 'fold' columns.");
        }
        var folds = Enumerable.Repeat(-1, rows).ToArray();
        while (reader.Read())
        {
            if (!int.TryParse(reader.Current[rowCol], CultureInfo.InvariantCulture, out var row) || row < 0 || row >= rows
                || !int.TryParse(reader.Current[foldCol], CultureInfo.InvariantCulture, out var fold) || fold < 0)
            {
                throw new CliException($"{path}: line {reader.RecordLine}: expected a row in [0, {rows}) and a fold >= 0.");
            }
            folds[row] = fold;
        }
        var missing = Array.IndexOf(folds, -1);
        if (missing >= 0)
        {
            throw new CliException($"{path}: data row {missing} has no fold.");
        }
        return folds;
    }
}
