using System.CommandLine;

namespace Churn.Cli;

/// <summary>The table of contents of the command line: every top-level command, in help order.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return ServeCommand.Create();
        yield return Registry.ModelsCommand.Create();
        yield return Registry.RunsCommand.Create();
        yield return Registry.BackupCommand.Backup();
        yield return Registry.BackupCommand.Restore();
    }
}
