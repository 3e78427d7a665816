namespace Churn.Core.Schema;

/// <summary>
/// The one rule for reading a label column as two classes, used by schema inference, training, evaluation and
/// retraining. A label value is compared by what it means, not how it is spelled: numbers by value (<c>1</c> =
/// <c>1.0</c> = <c>1e0</c>), text trimmed, in Unicode form C and case-insensitively (<c>Yes</c> = <c>yes</c>).
/// A value that is neither a positive nor a negative value is an error listing every distinct value and its count;
/// when no negative value is named, the single class besides the positive one is the negative class.
/// </summary>
public sealed class LabelRule
{
    private readonly HashSet<string> _positive;
    private readonly HashSet<string> _negative;

    /// <summary>A rule for a label column; throws <see cref="ArgumentException"/> when no positive value is given or a value is in both lists.</summary>
    /// <param name="column">The label column, for messages.</param>
    /// <param name="positive">Values meaning "churned" (at least one).</param>
    /// <param name="negative">Values meaning "stayed"; empty for "the one other class".</param>
    public LabelRule(string column, IReadOnlyList<string> positive, IReadOnlyList<string> negative)
    {
        Column = column;
        Positive = positive;
        Negative = negative;
        _positive = [.. positive.Where(p => !string.IsNullOrWhiteSpace(p)).Select(Key)];
        _negative = [.. negative.Where(n => !string.IsNullOrWhiteSpace(n)).Select(Key)];
        if (_positive.Count == 0)
        {
            throw new ArgumentException($"no positive label value is given for column '{column}'.", nameof(positive));
        }
        if (_positive.Overlaps(_negative))
        {
            throw new ArgumentException($"label values {string.Join(", ", positive.Where(p => _negative.Contains(Key(p))).Select(p => $"'{p}'"))} are given as both positive and negative.", nameof(negative));
        }
    }

    /// <summary>The rule a schema describes.</summary>
    public static LabelRule For(DatasetSchema schema) => new(schema.LabelColumn, schema.PositiveLabels, schema.NegativeLabels);

    /// <summary>The label column.</summary>
    public string Column { get; }

    /// <summary>The values meaning "churned", as given.</summary>
    public IReadOnlyList<string> Positive { get; }

    /// <summary>The values meaning "stayed", as given; empty when the negative class is whatever single class remains.</summary>
    public IReadOnlyList<string> Negative { get; }

    /// <summary>
    /// The form a label value is compared in: a finite number as its value in round-trip form, anything else trimmed,
    /// in Unicode form C and upper-cased (invariant culture).
    /// </summary>
    public static string Key(string value)
    {
        var text = ValueParser.Canonical(value);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? "#" + (number == 0 ? 0 : number).ToString("R", CultureInfo.InvariantCulture)
            : text.ToUpperInvariant();
    }

    /// <summary>Whether a value is one of the positive values.</summary>
    public bool IsPositive(string value) => _positive.Contains(Key(value));

    /// <summary>
    /// Decides the two classes from every distinct label value seen and its count. Returns whether each value is
    /// positive. Throws <see cref="InvalidDataException"/> naming every distinct value and its count when a value is
    /// neither positive nor negative, when no value is positive (if <paramref name="requirePositive"/>), or (with no negative values named) when more than
    /// one class remains besides the positive one.
    /// </summary>
    /// <param name="counts">Each distinct value as spelled in the data, with how many rows hold it.</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="requirePositive">Whether a column without any positive value is an error (when proposing a schema) or
    /// allowed (a window in which nobody churned).</param>
    public IReadOnlyDictionary<string, bool> Resolve(IReadOnlyDictionary<string, int> counts, string source, bool requirePositive = true)
    {
        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        var unknown = new List<string>();
        var otherClasses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in counts.Keys)
        {
            var key = Key(value);
            if (_positive.Contains(key))
            {
                result[value] = true;
            }
            else if (_negative.Count == 0 || _negative.Contains(key))
            {
                result[value] = false;
                otherClasses.Add(key);
            }
            else
            {
                unknown.Add(value);
            }
        }
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"{source}: column '{Column}' has {Plural(unknown.Count, "value")} that {(unknown.Count == 1 ? "is" : "are")} neither positive " +
                $"({Quoted(Positive)}) nor negative ({Quoted(Negative)}): {string.Join(", ", unknown.Select(u => $"'{u}'"))}. Values: {Describe(counts)}. " +
                "Give each spelling with --positive or --negative (or in positiveLabels/negativeLabels of the schema), or clean the label.");
        }
        if (requirePositive && !result.ContainsValue(true))
        {
            throw new InvalidDataException($"{source}: no row has {Quoted(Positive)} in column '{Column}'; check the positive label value. Values: {Describe(counts)}.");
        }
        if (_negative.Count == 0 && otherClasses.Count > 1)
        {
            throw new InvalidDataException($"{source}: column '{Column}' has {otherClasses.Count} classes besides the positive {Quoted(Positive)}, so which mean 'stayed' is unclear. " +
                $"Values: {Describe(counts)}. Give the other values with --negative (several allowed; or negativeLabels in the schema), " +
                "add spellings of churn to --positive, or clean the label.");
        }
        return result;
    }

    /// <summary>Every distinct value with its count, most frequent first: <c>'1' (1,443), '0' (5,557)</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, int> counts, int max = 40)
    {
        var shown = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(max)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"'{c.Key}' ({c.Value:N0})"));
        return string.Join(", ", shown) + (counts.Count > max ? $" and {counts.Count - max} more" : "");
    }

    private static string Quoted(IReadOnlyList<string> values) =>
        values.Count == 0 ? "none given" : string.Join(", ", values.Select(v => $"'{v}'"));

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
}

/// <summary>Counts the distinct spellings of a label column as a file is read, numbering each spelling once.</summary>
public sealed class LabelTally
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];
    private readonly List<int> _counts = [];

    /// <summary>Each distinct value (trimmed, as spelled) and its count.</summary>
    public IReadOnlyDictionary<string, int> Counts => _values.Select((v, i) => (v, _counts[i])).ToDictionary(x => x.v, x => x.Item2, StringComparer.Ordinal);

    /// <summary>The spelling numbered <paramref name="id"/>.</summary>
    public string this[int id] => _values[id];

    /// <summary>Counts one value; returns the number of its spelling.</summary>
    public int Add(string value)
    {
        var trimmed = value.Trim();
        if (!_ids.TryGetValue(trimmed, out var id))
        {
            id = _values.Count;
            _ids[trimmed] = id;
            _values.Add(trimmed);
            _counts.Add(0);
        }
        _counts[id]++;
        return id;
    }
}
