namespace Churn.Core.Data;

/// <summary>The training-time distribution of one feature, kept in the model card for drift and quality checks.</summary>
public sealed record FeatureProfile
{
    public required string Name { get; init; }
    public required FeatureKind Kind { get; init; }
    public int Count { get; init; }
    public double MissingShare { get; init; }

    /// <summary>Numeric and boolean: summary statistics (null for categorical).</summary>
    public double? Mean { get; init; }
    public double? StandardDeviation { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public double? Median { get; init; }

    /// <summary>Numeric: decile edges (11 values, min to max) and the share of rows per decile bin.</summary>
    public IReadOnlyList<double> BinEdges { get; init; } = [];
    public IReadOnlyList<double> BinShares { get; init; } = [];

    /// <summary>Numeric: a seeded sample of observed values (sorted) for two-sample tests.</summary>
    public IReadOnlyList<double> Sample { get; init; } = [];

    /// <summary>Categorical and boolean: share of each value among non-missing rows.</summary>
    public IReadOnlyDictionary<string, double> Frequencies { get; init; } = new Dictionary<string, double>();

    /// <summary>The most common value (categorical) or the median (numeric), used as the "typical customer".</summary>
    public string? Mode { get; init; }
}

/// <summary>Builds feature profiles from a dataset.</summary>
public static class ReferenceProfiler
{
    /// <summary>Values kept per numeric feature for two-sample tests, and the size of every other sample a card keeps.</summary>
    public const int SampleSize = 2000;

    /// <summary>
    /// <paramref name="values"/> if there are at most <see cref="SampleSize"/> of them, else a sample of that many drawn
    /// with <paramref name="seed"/>; sorted ascending either way (a new array).
    /// </summary>
    public static T[] SortedSample<T>(IReadOnlyList<T> values, int seed)
    {
        ArgumentNullException.ThrowIfNull(values);
        T[] sample;
        if (values.Count <= SampleSize)
        {
            sample = [.. values];
        }
        else
        {
            var random = new Random(seed);
            sample = [.. values.OrderBy(_ => random.Next()).Take(SampleSize)];
        }
        Array.Sort(sample);
        return sample;
    }

    public static IReadOnlyList<FeatureProfile> Profile(Dataset data, int seed = 42)
    {
        var profiles = new List<FeatureProfile>(data.Columns.Length);
        foreach (var column in data.Columns)
        {
            profiles.Add(column.Categories is not null ? Categorical(column) : Numeric(column.Spec, column.Numbers!, seed));
        }
        return profiles;
    }

    private static FeatureProfile Categorical(FeatureColumn column)
    {
        var values = column.Categories!;
        var (levels, present) = column.LevelCounts();
        var counts = levels.OrderByDescending(l => l.Value).ThenBy(l => l.Key, StringComparer.Ordinal).ToList();
        return new FeatureProfile
        {
            Name = column.Spec.Name,
            Kind = column.Spec.Kind,
            Count = values.Length,
            MissingShare = values.Length == 0 ? 0 : 1 - (double)present / values.Length,
            Frequencies = counts.ToDictionary(l => l.Key, l => (double)l.Value / Math.Max(1, present)),
            Mode = counts.Count == 0 ? null : counts[0].Key,
        };
    }

    private static FeatureProfile Numeric(FeatureSpec spec, double[] values, int seed)
    {
        var present = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(present);
        var n = present.Length;
        var missing = values.Length == 0 ? 0 : 1 - (double)n / values.Length;
        if (n == 0)
        {
            return new FeatureProfile { Name = spec.Name, Kind = spec.Kind, Count = values.Length, MissingShare = missing };
        }
        var mean = present.Average();
        var sd = Math.Sqrt(present.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, n - 1));
        var edges = Enumerable.Range(0, 11).Select(i => Quantile(present, i / 10.0)).ToArray();
        var shares = new double[10];
        foreach (var v in present)
        {
            shares[Bin(edges, v)] += 1.0 / n;
        }
        var sample = SortedSample(present, seed);
        var frequencies = spec.Kind == FeatureKind.Boolean
            ? new Dictionary<string, double> { ["true"] = present.Count(v => v == 1) / (double)n, ["false"] = present.Count(v => v == 0) / (double)n }
            : new Dictionary<string, double>();
        var median = Quantile(present, 0.5);
        return new FeatureProfile
        {
            Name = spec.Name,
            Kind = spec.Kind,
            Count = values.Length,
            MissingShare = missing,
            Mean = mean,
            StandardDeviation = sd,
            Min = present[0],
            Max = present[^1],
            Median = median,
            BinEdges = edges,
            BinShares = shares,
            Sample = sample,
            Frequencies = frequencies,
            Mode = spec.Kind == FeatureKind.Boolean ? (median >= 0.5 ? "true" : "false") : null,
        };
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var pos = q * (sorted.Count - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>The decile bin of a value given 11 edges (values outside fall in the end bins).</summary>
    public static int Bin(IReadOnlyList<double> edges, double v)
    {
        for (var b = 1; b < edges.Count - 1; b++)
        {
            if (v < edges[b])
            {
                return b - 1;
            }
        }
        return edges.Count - 2;
    }
}
