using Churn.Core.Data;

namespace Churn.Cli.Modeling;

/// <summary>The CSV dialect options of every command that reads a data file: --delimiter and --decimal.</summary>
internal sealed class DialectOptions
{
    public Option<string?> Delimiter { get; } = new("--delimiter")
    {
        Description = "Field separator of the data file: , ; tab or | (default: detected from the header line).",
    };

    public Option<string?> Decimal { get; } = new("--decimal")
    {
        Description = "Decimal mark in the data file: . or , (default: ',' when the fields are not comma-separated, else '.').",
    };

    public void AddTo(Command command)
    {
        command.Add(Delimiter);
        command.Add(Decimal);
    }

    /// <summary>The dialect given on the command line; null when neither option is given (the schema's or detection then decide).</summary>
    public CsvDialect? Resolve(ParseResult parse)
    {
        var delimiter = parse.GetValue(Delimiter);
        var mark = parse.GetValue(Decimal);
        if (delimiter is null && mark is null)
        {
            return null;
        }
        try
        {
            var dialect = new CsvDialect(delimiter is null ? null : CsvDialect.ParseDelimiter(delimiter), mark is null ? null : CsvDialect.ParseDecimal(mark));
            if (dialect is { Delimiter: ',', Decimal: ',' })
            {
                throw new CliException("--decimal ',' needs a --delimiter other than ','.");
            }
            return dialect;
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ex.Message);
        }
    }
}

/// <summary>Label values given on the command line: the option may be repeated, and each value may list several separated by commas.</summary>
internal static class LabelValues
{
    public static Option<string[]> Option(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        Required = required,
        AllowMultipleArgumentsPerToken = false,
        Arity = required ? ArgumentArity.OneOrMore : ArgumentArity.ZeroOrMore,
    };

    public static IReadOnlyList<string> Read(ParseResult parse, Option<string[]> option) =>
        [.. (parse.GetValue(option) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];
}

/// <summary>Says how a data file was read when it is not plain comma-separated CSV, so a wrong detection is seen at once.</summary>
internal static class DialectNote
{
    public static void Write(string file, CsvDialect? readAs)
    {
        if (readAs is { IsPlain: false } dialect)
        {
            Console.Error.WriteLine($"note: {Path.GetFileName(file)} is read as {dialect.Describe()}; --delimiter and --decimal set it otherwise.");
        }
    }
}
