using System.Globalization;
using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Server.Dashboard;

/// <summary>A reference and a current distribution over the same bins or categories.</summary>
public sealed record DistributionComparison(string[] Labels, double[] Reference, double[] Current, int CurrentCount);

/// <summary>Lines recent logged values up against a feature's (or the score's) training-time profile.</summary>
public static class Distributions
{
    public static DistributionComparison Compare(FeatureProfile profile, IEnumerable<JsonElement> inputs)
    {
        var values = inputs.Select(i => i.TryGetProperty(profile.Name, out var v) ? v : default).Where(v => v.ValueKind is not JsonValueKind.Undefined and not JsonValueKind.Null).ToList();
        if (profile.Kind == FeatureKind.Numeric && profile.BinEdges.Count > 1)
        {
            var numbers = values.Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToList();
            return new DistributionComparison(BinLabels(profile.BinEdges), [.. profile.BinShares], Shares(profile.BinEdges, numbers), numbers.Count);
        }
        var texts = values.Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList();
        var categories = profile.Frequencies.OrderByDescending(f => f.Value).Select(f => f.Key).Take(12).ToArray();
        var current = categories.Select(c => texts.Count == 0 ? 0 : (double)texts.Count(t => string.Equals(t, c, StringComparison.OrdinalIgnoreCase)) / texts.Count).ToArray();
        return new DistributionComparison(categories, [.. categories.Select(c => profile.Frequencies[c])], current, texts.Count);
    }

    /// <summary>Share of <paramref name="values"/> in each bin between consecutive edges (the outer bins are open-ended).</summary>
    public static double[] Shares(IReadOnlyList<double> edges, IReadOnlyList<double> values)
    {
        var bins = new double[edges.Count - 1];
        foreach (var value in values)
        {
            var bin = 0;
            while (bin < bins.Length - 1 && value >= edges[bin + 1])
            {
                bin++;
            }
            bins[bin]++;
        }
        return values.Count == 0 ? bins : [.. bins.Select(b => Math.Round(b / values.Count, 4))];
    }

    public static string[] BinLabels(IReadOnlyList<double> edges) =>
        [.. Enumerable.Range(0, edges.Count - 1).Select(i => edges[i].ToString("0.##", CultureInfo.InvariantCulture))];
}
