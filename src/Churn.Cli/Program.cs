using Churn.Cli;

var root = new RootCommand("Churn: train, evaluate and serve customer-churn models.");
foreach (var command in Commands.All())
{
    root.Add(command);
}
return await CliRunner.RunAsync(root, args);
