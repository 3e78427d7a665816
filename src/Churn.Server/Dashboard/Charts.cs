using Churn.Core.Evaluation;
using MudBlazor;

namespace Churn.Server.Dashboard;

/// <summary>Turns model-card curves into chart series on a shared grid, so curves of two versions line up.</summary>
public static class Charts
{
    public const int GridSteps = 20;

    public static string[] GridLabels => [.. Enumerable.Range(0, GridSteps + 1).Select(i => i % 4 == 0 ? ((double)i / GridSteps).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) : "")];

    public static ChartSeries<double> Series(string name, IEnumerable<double> values) =>
        new() { Name = name, Data = new ChartData<double>([.. values.Select(v => Math.Round(v, 4))]) };

    /// <summary>Rates and shares as percentages: chart axes tick in whole steps, so values between 0 and 1 would lie flat.</summary>
    public static ChartSeries<double> Percent(string name, IEnumerable<double> values) => Series(name, values.Select(v => v * 100));

    /// <summary>
    /// Axis labels for times on a line chart (durations, horizons): about <paramref name="shown"/> of them written, evenly
    /// spaced and always the first, so a long grid stays readable; the others are blank.
    /// </summary>
    public static string[] TimeLabels(IReadOnlyList<double> times, int shown = 8)
    {
        var every = Math.Max(1, (int)Math.Ceiling((double)times.Count / shown));
        return [.. times.Select((t, i) => i % every == 0 ? Math.Round(t, 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : "")];
    }

    /// <summary>Y of a curve (points sorted by X) read at X = 0, 0.05, ..., 1 by linear interpolation.</summary>
    public static IEnumerable<double> OnGrid(IReadOnlyList<CurvePoint> curve)
    {
        var points = curve.OrderBy(p => p.X).ThenBy(p => p.Y).ToList();
        for (var i = 0; i <= GridSteps; i++)
        {
            var x = (double)i / GridSteps;
            yield return Interpolate(points, x);
        }
    }

    private static double Interpolate(List<CurvePoint> points, double x)
    {
        if (points.Count == 0)
        {
            return 0;
        }
        var after = points.FindIndex(p => p.X >= x);
        if (after < 0)
        {
            return points[^1].Y;
        }
        if (after == 0 || points[after].X == x)
        {
            return points[after].Y;
        }
        var a = points[after - 1];
        var b = points[after];
        return a.Y + ((b.Y - a.Y) * (x - a.X) / (b.X - a.X));
    }
}
