using Churn.Server;

namespace Churn.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = $"Address(es) to listen on, separated by ';'. Default: {ChurnServer.DefaultUrl}.",
            DefaultValueFactory = _ => ChurnServer.DefaultUrl,
        };
        var dataDir = CommonOptions.DataDir();
        var command = new Command("serve", "Serve the REST API: trains a first model on generated data when the store has none.");
        command.Add(urls);
        command.Add(dataDir);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] args =
            [
                $"--urls={parse.GetValue(urls)}",
                $"--Churn:DataDir={CommonOptions.ResolveDataDir(parse.GetValue(dataDir))}",
            ];
            return await ChurnServer.RunAsync(args, Console.Out, cancellationToken);
        });
        return command;
    }
}
