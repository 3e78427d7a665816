using Churn.Cli.Modeling;

namespace Churn.Cli;

/// <summary>The table of contents of the command line: every top-level command, in help order.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return TrainCommand.Create();
        yield return Survival.SurvivalCommand.Create();
        yield return ScoringCommands.Evaluate();
        yield return ScoringCommands.Predict();
        yield return DataCommands.Schema();
        yield return DataCommands.Quality();
        yield return DriftCommand.Create();
        yield return DataCommands.Generate();
        yield return ServeCommand.Create();
        yield return Registry.ModelsCommand.Create();
        yield return Registry.RunsCommand.Create();
        yield return Registry.RetrainCommand.Create();
        yield return Registry.BackupCommand.Backup();
        yield return Registry.BackupCommand.Restore();
        yield return KeysCommand.Create();
        yield return Campaigns.CampaignCommand.Create();
        yield return Campaigns.UpliftCommand.Create();
    }
}
