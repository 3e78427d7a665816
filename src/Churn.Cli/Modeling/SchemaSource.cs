using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Cli.Modeling;

/// <summary>The schema options shared by train and schema infer: a schema file, or a label and positive value to infer one.</summary>
internal sealed class SchemaSource
{
    public Option<string?> SchemaFile { get; } = new("--schema") { Description = "Schema JSON file (see 'churn schema infer')." };
    public Option<string?> Label { get; } = new("--label") { Description = "Label column (when no --schema is given)." };
    public Option<string[]> Positive { get; } = LabelValues.Option("--positive",
        "Label value(s) meaning 'churned' (when no --schema is given); repeat the option or separate values with commas.");
    public Option<string[]> Negative { get; } = LabelValues.Option("--negative",
        "Label value(s) meaning 'stayed' (default: the one other value in the label column).");
    public Option<string?> Id { get; } = new("--id") { Description = "Customer id column." };
    public Option<string?> Drop { get; } = new("--drop") { Description = "Comma-separated columns to ignore." };

    public void AddTo(Command command)
    {
        command.Add(SchemaFile);
        command.Add(Label);
        command.Add(Positive);
        command.Add(Negative);
        command.Add(Id);
        command.Add(Drop);
    }

    /// <summary>The schema from the file, or inferred from the data with the label options.</summary>
    public (DatasetSchema Schema, IReadOnlyList<string> Notes) Resolve(ParseResult parse, string dataFile, CsvDialect? dialect)
    {
        if (parse.GetValue(SchemaFile) is { } file)
        {
            if (LabelValues.Read(parse, Positive).Count > 0 || LabelValues.Read(parse, Negative).Count > 0)
            {
                throw new CliException("--positive and --negative apply when the schema is inferred; with --schema, set positiveLabels and negativeLabels in the schema file.");
            }
            return (DatasetSchema.Load(file), []);
        }
        var label = parse.GetValue(Label);
        var positive = LabelValues.Read(parse, Positive);
        if (label is null || positive.Count == 0)
        {
            throw new CliException("give --schema FILE, or --label COLUMN and --positive VALUE to infer the schema.");
        }
        var drop = parse.GetValue(Drop)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var inferred = SchemaInference.Infer(dataFile, label, positive, LabelValues.Read(parse, Negative), parse.GetValue(Id), drop, dialect);
        return (inferred.Schema, inferred.Notes);
    }
}
