using Churn.Core.Campaigns;
using Churn.Core.Training;

namespace Churn.Cli.Campaigns;

/// <summary>churn uplift: treatment-effect models from randomised campaign history.</summary>
internal static class UpliftCommand
{
    public static Command Create() => Commands.Group("uplift", "Uplift (treatment-effect) models: who is persuadable.", Train());

    private static Command Train()
    {
        var data = CommonOptions.Data("CSV file of campaign history: features, arm and outcome per customer.");
        var armColumn = ExperimentOptions.ArmColumn();
        var treated = new Option<string>("--treated") { Description = "The treated arm's value.", Required = true };
        var control = ExperimentOptions.Control();
        var outcome = ExperimentOptions.Outcome();
        var positive = ExperimentOptions.Positive();
        var goal = new Option<string>("--goal") { Description = "increase (the outcome is wanted, such as a visit) or decrease (such as churn).", DefaultValueFactory = _ => "increase" };
        goal.AcceptOnlyFromAmong("increase", "decrease");
        var folds = new Option<int>("--cv") { Description = "Cross-validation folds.", DefaultValueFactory = _ => 5 };
        var seed = CommonOptions.Seed("Seed of folds, learners and bootstrap.");
        var features = new Option<string?>("--features") { Description = "Comma-separated feature columns (default: every column but the arm and the outcome)." };
        var drop = new Option<string?>("--drop") { Description = "Comma-separated columns not to use as features (other outcomes, for example)." };
        var bags = new Option<int>("--bags") { Description = "LightGBM models averaged behind each estimate, each early-stopped on a different part of the training rows.", DefaultValueFactory = _ => 5 };
        var foldFile = CommonOptions.FoldFile("CSV of row,fold (0-based data rows of --data): a published fold assignment instead of seeded folds.");
        var json = CommonOptions.Json();
        var command = new Command("train", "Cross-validate the uplift methods (two-model, class transformation, X-learner, logistic with interactions); report the Qini coefficient and uplift at 30 % against baselines.")
        {
            data, armColumn, treated, control, outcome, positive, goal, folds, seed, features, drop, bags, foldFile, json,
        };
        command.SetAction(parse =>
        {
            var k = parse.GetValue(folds);
            if (k < 2)
            {
                throw new CliException("--cv must be at least 2.");
            }
            if (parse.GetValue(bags) is < 1 or > 20)
            {
                throw new CliException("--bags must be from 1 to 20.");
            }
            var history = UpliftData.Load(parse.GetRequiredValue(data), parse.GetRequiredValue(armColumn), parse.GetRequiredValue(treated),
                parse.GetRequiredValue(control), parse.GetRequiredValue(outcome), parse.GetValue(goal) == "decrease",
                List(parse.GetValue(features)), List(parse.GetValue(drop)), parse.GetValue(positive));
            var given = parse.GetValue(foldFile) is { } path ? FoldAssignment.Read(path) : null;
            var report = UpliftTrainer.CrossValidate(history, new UpliftOptions { Folds = k, Seed = parse.GetValue(seed), FoldOfRow = given, Bags = parse.GetValue(bags) });
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(Wire(report), JsonDefaults.Options));
                return;
            }
            var table = new Table().AddColumns("scores", "Qini coefficient", "95 % interval", "uplift at 30 %", "95 % interval");
            foreach (var c in report.Candidates)
            {
                Row(table, c.Method + (c.Method == report.Chosen ? " (chosen)" : ""), c.Score);
            }
            Row(table, "random order", report.RandomOrder);
            Row(table, "response model (arm ignored)", report.ResponseModel);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{report.Customers:N0} customers ({report.Treated:N0} treated, {report.Control:N0} control), {report.Folds}-fold out-of-fold scores.");
        });
        return command;
    }

    /// <summary>The JSON read-out: the chosen method's figures at the top level, then candidates and baselines.</summary>
    private static object Wire(UpliftReport r) => new
    {
        method = r.Chosen,
        qini = r.Score.Qini.Value,
        qiniCi = r.Score.Qini.Ci,
        upliftAt30 = r.Score.UpliftAt30.Value,
        upliftAt30Ci = r.Score.UpliftAt30.Ci,
        candidates = r.Candidates.Select(c => new { method = c.Method, qini = c.Score.Qini.Value, qiniCi = c.Score.Qini.Ci, upliftAt30 = c.Score.UpliftAt30.Value, upliftAt30Ci = c.Score.UpliftAt30.Ci }),
        baselines = new
        {
            random = Figures(r.RandomOrder),
            response = Figures(r.ResponseModel),
        },
        customers = r.Customers,
        treated = r.Treated,
        control = r.Control,
        folds = r.Folds,
        qiniCurve = r.QiniCurve,
    };

    private static object Figures(UpliftScore s) => new { qini = s.Qini.Value, qiniCi = s.Qini.Ci, upliftAt30 = s.UpliftAt30.Value, upliftAt30Ci = s.UpliftAt30.Ci };

    private static void Row(Table table, string name, UpliftScore s) => table.AddRow(Markup.Escape(name),
        F(s.Qini.Value), $"{F(s.Qini.Low)} to {F(s.Qini.High)}", P(s.UpliftAt30.Value), $"{P(s.UpliftAt30.Low)} to {P(s.UpliftAt30.High)}");

    private static string F(double x) => x.ToString("0.000", CultureInfo.InvariantCulture);

    private static string P(double x) => x.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    private static string[]? List(string? csv) => csv?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
