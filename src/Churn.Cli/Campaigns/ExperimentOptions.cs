namespace Churn.Cli.Campaigns;

/// <summary>
/// The options that describe a randomised experiment's file: which column holds each customer's arm, the control arm and
/// the binary outcome. <c>churn campaign readout</c> and <c>churn uplift train</c> read the same kind of file.
/// </summary>
internal static class ExperimentOptions
{
    public static Option<string> ArmColumn() => new("--arm-column") { Description = "Column naming each customer's arm.", Required = true };

    public static Option<string> Control() => new("--control") { Description = "The control (holdout) arm's value.", Required = true };

    public static Option<string> Outcome() =>
        new("--outcome") { Description = "Binary outcome column (yes/no, true/false, 1/0, or name --positive).", Required = true };

    public static Option<string?> Positive() => new("--positive") { Description = "The outcome's positive value, when it is not a yes/no word." };
}
