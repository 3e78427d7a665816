using System.CommandLine;
using Churn.Core.Schema;

namespace Churn.Cli.Modeling;

/// <summary>The schema options shared by train and schema infer: a schema file, or a label and positive value to infer one.</summary>
internal sealed class SchemaSource
{
    public Option<string?> SchemaFile { get; } = new("--schema") { Description = "Schema JSON file (see 'churn schema infer')." };
    public Option<string?> Label { get; } = new("--label") { Description = "Label column (when no --schema is given)." };
    public Option<string?> Positive { get; } = new("--positive") { Description = "Label value meaning 'churned' (when no --schema is given)." };
    public Option<string?> Id { get; } = new("--id") { Description = "Customer id column." };
    public Option<string?> Drop { get; } = new("--drop") { Description = "Comma-separated columns to ignore." };

    public void AddTo(Command command)
    {
        command.Add(SchemaFile);
        command.Add(Label);
        command.Add(Positive);
        command.Add(Id);
        command.Add(Drop);
    }

    /// <summary>The schema from the file, or inferred from the data with the label options.</summary>
    public (DatasetSchema Schema, IReadOnlyList<string> Notes) Resolve(ParseResult parse, string dataFile)
    {
        if (parse.GetValue(SchemaFile) is { } file)
        {
            return (DatasetSchema.Load(file), []);
        }
        var label = parse.GetValue(Label);
        var positive = parse.GetValue(Positive);
        if (label is null || positive is null)
        {
            throw new CliException("give --schema FILE, or --label COLUMN and --positive VALUE to infer the schema.");
        }
        var drop = parse.GetValue(Drop)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var inferred = SchemaInference.Infer(dataFile, label, positive, parse.GetValue(Id), drop);
        return (inferred.Schema, inferred.Notes);
    }
}
