using System.CommandLine;

namespace Churn.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Serve the REST API and dashboard.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("churn serve: the server is not built yet in this version; use 'churn train' and 'churn predict'.");
            return 2;
        });
        return command;
    }
}
