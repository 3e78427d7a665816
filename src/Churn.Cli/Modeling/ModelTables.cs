using Churn.Core.Evaluation;

namespace Churn.Cli.Modeling;

/// <summary>Readable tables of a model's card and of an evaluation.</summary>
internal static class ModelTables
{
    public static void Write(ModelCard card)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(card.ModelName)}[/] ({card.Trainer}, {card.TrainRows} training rows, {card.TestRows} test rows, {card.TrainingSeconds:0.0} s)");
        WriteMetrics(card.Metrics, "Held-out test split");
        AnsiConsole.MarkupLine($"Calibration: {card.Calibration.Method} (Brier {card.UncalibratedBrier:0.0000} before, {card.Metrics.Brier:0.0000} after)");
        AnsiConsole.MarkupLine($"Threshold: {card.Threshold:0.000} (by {card.ThresholdPolicy})");
        if (card.CrossValidation is { } cv)
        {
            AnsiConsole.MarkupLine($"{cv.Folds}-fold cross-validation: AUC {cv.Auc.Mean:0.0000} ± {cv.Auc.Sd:0.0000}, AUC-PR {cv.AucPr.Mean:0.0000}, Brier {cv.Brier.Mean:0.0000}");
        }
        if (card.Importance.Count > 0)
        {
            var table = new Table().AddColumn("feature").AddColumn(new TableColumn("AUC drop when shuffled").RightAligned());
            foreach (var i in card.Importance.Take(10))
            {
                table.AddRow(Markup.Escape(i.Feature), i.AucDrop.ToString("0.0000", CultureInfo.InvariantCulture));
            }
            table.Title = new TableTitle("Permutation importance (top 10)");
            AnsiConsole.Write(table);
        }
    }

    public static void WriteMetrics(EvaluationReport m, string title)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.Title = new TableTitle(title);
        void Row(string name, double? v) => table.AddRow(name, v?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "n/a");
        Row("AUC-ROC", m.Auc);
        Row("AUC-PR", m.AucPr);
        Row("log-loss", m.LogLoss);
        Row("Brier", m.Brier);
        Row("accuracy", m.Accuracy);
        Row("precision", m.Precision);
        Row("recall", m.Recall);
        Row("F1", m.F1);
        table.AddRow("confusion (TP FP / FN TN)", $"{m.Confusion.TruePositives} {m.Confusion.FalsePositives} / {m.Confusion.FalseNegatives} {m.Confusion.TrueNegatives}");
        AnsiConsole.Write(table);
        var lift = new Table().AddColumn("decile").AddColumn("customers").AddColumn("churners").AddColumn("lift").AddColumn("cumulative gain");
        lift.Title = new TableTitle("Lift by decile");
        foreach (var d in m.Lift)
        {
            lift.AddRow(d.Decile.ToString(CultureInfo.InvariantCulture), d.Customers.ToString(CultureInfo.InvariantCulture), d.Churners.ToString(CultureInfo.InvariantCulture),
                d.Lift.ToString("0.00", CultureInfo.InvariantCulture), d.CumulativeGain.ToString("P0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(lift);
    }
}
