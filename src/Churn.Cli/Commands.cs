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

    /// <summary>A command that only holds subcommands, such as <c>churn models</c> for <c>list|show|promote|…</c>.</summary>
    public static Command Group(string name, string description, params Command[] subcommands)
    {
        var command = new Command(name, description);
        foreach (var subcommand in subcommands)
        {
            command.Add(subcommand);
        }
        return command;
    }

    /// <summary>Adds each option and argument to <paramref name="command"/>, in order.</summary>
    public static void AddAll(Command command, params Symbol[] symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Add(option);
                    break;
                case Argument argument:
                    command.Add(argument);
                    break;
                default:
                    throw new ArgumentException($"{symbol.Name} is neither an option nor an argument.", nameof(symbols));
            }
        }
    }
}
