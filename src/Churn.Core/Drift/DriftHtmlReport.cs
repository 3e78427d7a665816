using System.Net;
using System.Text;

namespace Churn.Core.Drift;

/// <summary>A self-contained HTML page of a drift report: verdicts, statistics and reference-vs-current bars.</summary>
public static class DriftHtmlReport
{
    /// <summary>The page for <paramref name="report"/>; <paramref name="reference"/> and <paramref name="current"/> draw the bars of each feature.</summary>
    public static string Render(DriftReport report, IReadOnlyList<FeatureProfile> reference, Dataset current, string title)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Encode(title)).Append("</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}")
            .Append(".drift{color:#b00020;font-weight:600}.ok{color:#1b5e20}.none{color:#8a6d00;font-weight:600}svg{display:block}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem}")
            .Append("</style></head><body>");
        html.Append("<h1>").Append(Encode(title)).Append("</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p>{report.CurrentRows} current rows. Drifted features: {report.Features.Count(f => f.Drifted)} of {report.JudgedCount} with a verdict ({report.DriftedShare:P0}). ");
        html.Append(report.DatasetDrift ? "<span class=\"drift\">Dataset drift detected.</span>" : "<span class=\"ok\">No dataset drift.</span>").Append("</p>");
        foreach (var f in report.Unjudged)
        {
            html.Append("<p class=\"none\">No verdict for ").Append(Encode(f.Feature)).Append(": ").Append(Encode(f.Reason ?? "")).Append(".</p>");
        }
        if (report.Score is { } score)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p>Score distribution: {score.Test} {Number(score.Statistic, "0.####")}, {Verdict(score)}.</p>");
        }
        html.Append("<p class=\"legend\"><span style=\"background:#90a4ae\"></span>reference <span style=\"background:#ef6c00\"></span>current</p>");
        html.Append("<table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th><th>PSI</th><th>importance</th><th>missing</th><th>verdict</th><th>distribution</th></tr>");
        foreach (var f in report.Features.OrderByDescending(f => f.Drifted).ThenBy(f => f.Judged).ThenByDescending(f => f.Importance))
        {
            var profile = reference.First(p => p.Name == f.Feature);
            var column = current.Columns.First(c => c.Spec.Name == f.Feature);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Encode(f.Feature)}</td><td>{f.Test}</td><td>{Number(f.Statistic, "0.####")}</td><td>{Number(f.PValue, "0.####")}</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td>{Number(f.Psi, "0.###")}</td><td>{f.Importance:0.####}</td><td>{Number(f.CurrentMissingShare * 100, "0.#")} % (reference {Number(f.ReferenceMissingShare * 100, "0.#")} %)</td><td>{Verdict(f)}</td><td>");
            var (labels, refShares, curShares) = Distributions(profile, column);
            html.Append(Bars(labels, refShares, curShares)).Append("</td></tr>");
        }
        html.Append("</table></body></html>");
        return html.ToString();
    }

    /// <summary>The verdict as a styled cell text; a feature without one shows why.</summary>
    private static string Verdict(FeatureDrift f) => f.Verdict switch
    {
        FeatureVerdict.Drifted => "<span class=\"drift\">drifted</span>",
        FeatureVerdict.Stable => "<span class=\"ok\">stable</span>",
        FeatureVerdict.NoValues => $"<span class=\"none\" title=\"{Encode(f.Reason ?? "")}\">no values</span>",
        _ => $"<span class=\"none\" title=\"{Encode(f.Reason ?? "")}\">too few values</span>",
    };

    private static string Number(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static (IReadOnlyList<string> Labels, double[] Reference, double[] Current) Distributions(FeatureProfile profile, FeatureColumn column)
    {
        if (column.Categories is { } cats)
        {
            var present = cats.Where(c => c is not null).ToArray();
            var keys = profile.Frequencies.Keys.Union(present.Distinct()!).Take(12).ToList()!;
            return (keys!, keys.Select(k => profile.Frequencies.GetValueOrDefault(k!)).ToArray(),
                keys.Select(k => present.Length == 0 ? 0 : present.Count(c => c == k) / (double)present.Length).ToArray());
        }
        var values = column.Numbers!.Where(v => !double.IsNaN(v)).ToArray();
        if (profile.BinEdges.Count != 11)
        {
            var t = profile.Frequencies.GetValueOrDefault("true");
            var share = values.Length == 0 ? 0 : values.Count(v => v == 1) / (double)values.Length;
            return (["false", "true"], [1 - t, t], [1 - share, share]);
        }
        var counts = new double[10];
        foreach (var v in values)
        {
            counts[ReferenceProfiler.Bin(profile.BinEdges, v)] += 1.0 / Math.Max(1, values.Length);
        }
        var labels = Enumerable.Range(0, 10).Select(i => profile.BinEdges[i].ToString("0.##", CultureInfo.InvariantCulture)).ToList();
        return (labels, [.. profile.BinShares], counts);
    }

    private static string Bars(IReadOnlyList<string> labels, double[] reference, double[] current)
    {
        const int width = 14;
        const int height = 60;
        var max = Math.Max(1e-9, reference.Concat(current).Max());
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg width=\"{labels.Count * (2 * width + 4)}\" height=\"{height}\" role=\"img\">");
        for (var i = 0; i < labels.Count; i++)
        {
            var x = i * (2 * width + 4);
            var hr = reference[i] / max * height;
            var hc = current[i] / max * height;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{height - hr:0.#}\" width=\"{width}\" height=\"{hr:0.#}\" fill=\"#90a4ae\"><title>{Encode(labels[i])}: reference {reference[i]:P1}</title></rect>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + width}\" y=\"{height - hc:0.#}\" width=\"{width}\" height=\"{hc:0.#}\" fill=\"#ef6c00\"><title>{Encode(labels[i])}: current {current[i]:P1}</title></rect>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Encode(string s) => WebUtility.HtmlEncode(s);
}
