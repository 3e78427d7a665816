using System.Text.Json.Serialization;

namespace Churn.Core.Features;

/// <summary>
/// Turns raw feature values into the float vector the ML models read: numbers and booleans as one
/// slot each (NaN for missing, which the tree learners route natively), categories one-hot with an
/// "other" slot for values unseen in training. The vocabulary is fitted on training data only.
/// </summary>
public sealed class FeatureEncoder
{
    /// <summary>Categories beyond this many (by frequency) share the "other" slot.</summary>
    public const int MaxCategoriesPerFeature = 64;

    [JsonConstructor]
    public FeatureEncoder(IReadOnlyList<EncodedFeature> features)
    {
        Features = features;
        Width = features.Count == 0 ? 0 : features[^1].Offset + features[^1].Width;
        // Keys in Unicode form C: values arrive normalised (ValueParser.Canonical), and a model trained before categories
        // were normalised may hold a decomposed spelling. The first slot of two spellings that meet wins.
        _lookup = [.. features.Select(f =>
        {
            var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < f.Categories.Count; i++)
            {
                lookup.TryAdd(ValueParser.Canonical(f.Categories[i]), i);
            }
            return lookup;
        })];
    }

    private readonly Dictionary<string, int>[] _lookup;

    public IReadOnlyList<EncodedFeature> Features { get; }

    /// <summary>Length of the encoded vector.</summary>
    [JsonIgnore]
    public int Width { get; }

    /// <summary>Learns category vocabularies from training data.</summary>
    public static FeatureEncoder Fit(Dataset data)
    {
        var features = new List<EncodedFeature>();
        var offset = 0;
        foreach (var column in data.Columns)
        {
            IReadOnlyList<string> categories = [];
            if (column.Categories is { } values)
            {
                categories = [.. values.Where(v => v is not null).GroupBy(v => v!, StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Take(MaxCategoriesPerFeature).Select(g => g.Key)];
            }
            var feature = new EncodedFeature { Name = column.Spec.Name, Kind = column.Spec.Kind, Offset = offset, Categories = categories };
            features.Add(feature);
            offset += feature.Width;
        }
        return new FeatureEncoder(features);
    }

    /// <summary>Encodes one row of a dataset (already typed) into <paramref name="slots"/>.</summary>
    public void Encode(Dataset data, int row, Span<float> slots)
    {
        for (var f = 0; f < Features.Count; f++)
        {
            var column = data.Columns[f];
            if (column.Categories is { } c)
            {
                EncodeCategory(f, c[row], slots);
            }
            else
            {
                slots[Features[f].Offset] = (float)column.Numbers![row];
            }
        }
    }

    /// <summary>Encodes every row of a dataset into one row-major matrix.</summary>
    public float[] EncodeAll(Dataset data)
    {
        var matrix = new float[data.RowCount * Width];
        for (var r = 0; r < data.RowCount; r++)
        {
            Encode(data, r, matrix.AsSpan(r * Width, Width));
        }
        return matrix;
    }

    /// <summary>
    /// Encodes raw values (schema order) as they arrive over the API. Values that do not fit their
    /// kind are reported, not guessed; unseen categories are encoded as "other" and flagged.
    /// </summary>
    public EncodeOutcome Encode(ReadOnlySpan<FeatureValue> values, Span<float> slots)
    {
        var unseen = 0L;
        for (var f = 0; f < Features.Count; f++)
        {
            var feature = Features[f];
            var value = values[f];
            switch (feature.Kind)
            {
                case FeatureKind.Categorical:
                    var text = value.IsMissing ? null : ValueParser.Canonical(value.ToString());
                    if (!EncodeCategory(f, text, slots) && f < 63)
                    {
                        unseen |= 1L << f;
                    }
                    break;
                default:
                    if (!ValueParser.TryNumberOf(feature.Kind, value, out var n))
                    {
                        var problem = feature.Kind == FeatureKind.Boolean ? "must be a yes/no value (true/false, yes/no, y/n, 1/0)" : "must be a finite number";
                        return new EncodeOutcome(unseen, problem, f);
                    }
                    slots[feature.Offset] = (float)n;
                    break;
            }
        }
        return new EncodeOutcome(unseen, null, -1);
    }

    private bool EncodeCategory(int f, string? value, Span<float> slots)
    {
        var feature = Features[f];
        var block = slots.Slice(feature.Offset, feature.Width);
        block.Clear();
        if (value is null)
        {
            // Missing: every slot stays 0, which the models learn as "none of the known values".
            return true;
        }
        if (_lookup[f].TryGetValue(value, out var index))
        {
            block[index] = 1;
            return true;
        }
        block[^1] = 1;
        return false;
    }
}
