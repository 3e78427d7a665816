using Churn.Core.Campaigns;

namespace Churn.Cli.Campaigns;

/// <summary>churn campaign: read-outs of retention campaigns and other randomised experiments.</summary>
internal static class CampaignCommand
{
    public static Command Create() => Commands.Group("campaign", "Retention campaigns: read out a finished experiment.", Readout());

    private static Command Readout()
    {
        var data = CommonOptions.Data("CSV file of the experiment: one row per customer.");
        var armColumn = ExperimentOptions.ArmColumn();
        var control = ExperimentOptions.Control();
        var outcome = ExperimentOptions.Outcome();
        var positive = ExperimentOptions.Positive();
        var segment = new Option<string?>("--segment") { Description = "Also read out per value of this column." };
        var json = CommonOptions.Json();
        var command = new Command("readout", "Arm sizes and outcome rates, each arm's effect against the control with a 95 % interval, and a sample-ratio test.")
        {
            data, armColumn, control, outcome, positive, segment, json,
        };
        command.SetAction(parse =>
        {
            var units = ExperimentFile.Read(parse.GetRequiredValue(data), parse.GetRequiredValue(armColumn), parse.GetRequiredValue(outcome),
                parse.GetValue(segment), parse.GetValue(positive));
            var readout = ExperimentReadout.Compute(units, parse.GetRequiredValue(control));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(readout, JsonDefaults.Options));
                return;
            }
            Print("All customers", readout.Arms, readout.Effects, readout.SampleRatioP);
            foreach (var s in readout.Segments)
            {
                Print($"{parse.GetValue(segment)} = {s.Segment}", s.Arms, s.Effects, s.SampleRatioP);
            }
        });
        return command;
    }

    private static void Print(string title, IReadOnlyList<ArmSummary> arms, IReadOnlyList<ArmEffect> effects, double sampleRatioP)
    {
        var table = new Table { Title = new TableTitle(Markup.Escape(title)) }.AddColumns("arm", "n", "rate", "95 % interval", "effect (points)", "95 % interval");
        foreach (var arm in arms)
        {
            var effect = effects.FirstOrDefault(e => e.Arm == arm.Name);
            table.AddRow(Markup.Escape(arm.Name) + (arm.Control ? " (control)" : ""), arm.N.ToString("N0", CultureInfo.InvariantCulture),
                Percent(arm.Rate), $"{Percent(arm.CiLow)} – {Percent(arm.CiHigh)}",
                effect is null ? "" : Points(effect.Difference), effect is null ? "" : $"{Points(effect.CiLow)} to {Points(effect.CiHigh)}");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Sample ratio (chi-squared against an equal split): p = {sampleRatioP.ToString("0.###", CultureInfo.InvariantCulture)}"
            + (sampleRatioP < 0.001 ? " [red]mismatch: check the assignment before trusting the effects[/]" : ""));
    }

    private static string Percent(double rate) => (100 * rate).ToString("0.00", CultureInfo.InvariantCulture) + " %";

    private static string Points(double difference) => (100 * difference).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);
}
