// Power of the per-feature drift verdict on large windows: how often a shift of PSI 0.1 in one feature is caught, and
// how often an unchanged window is flagged, at 10k, 100k and 1M rows. The reference is the profile a model card keeps
// (ReferenceProfiler over 20,000 generated customers); windows are fresh generated customers, each from its own seed.
// Writes one JSON object to stdout; bench/drift-power.sh turns it into bench/results/drift-power.md.
//
//   dotnet run -c Release -- [repetitions at 10k] [repetitions at 100k] [repetitions at 1M]
using System.Globalization;
using System.Text.Json;
using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Generation;
using Churn.Core.Schema;

var reps = new[] { Arg(0, 100), Arg(1, 40), Arg(2, 10) };
var sizes = new[] { 10_000, 100_000, 1_000_000 };
var schema = CustomerGenerator.Schema;
var reference = ReferenceProfiler.Profile(Window(20_000, seed: 1, shift: Shift.None, amount: 0));
var options = new DriftOptions();

// The shift amounts that give PSI 0.1 against the reference's own bins, found on a large sample by bisection.
var chargesShift = Solve(a => PsiOf("monthlyCharges", Window(200_000, 2, Shift.Charges, a)), 0, 40);
var contractShift = Solve(a => PsiOf("contract", Window(200_000, 3, Shift.Contract, a)), 0, 1);
Console.Error.WriteLine(FormattableString.Invariant($"monthlyCharges +{chargesShift:0.###} and contract move {contractShift:0.###} give PSI 0.1"));

var rows = new List<object>();
for (var s = 0; s < sizes.Length; s++)
{
    var n = sizes[s];
    int unchangedAny = 0, unchangedFeatureFlags = 0, unchangedJudged = 0, chargesCaught = 0, contractCaught = 0;
    double maxUnchangedPsi = 0, minShiftedPsi = double.MaxValue, maxUnchangedW = 0, maxUnchangedJs = 0, minShiftedW = double.MaxValue, minShiftedJs = double.MaxValue;
    for (var r = 0; r < reps[s]; r++)
    {
        var seed = 1000 * (s + 1) + r;
        var unchanged = DriftDetector.Detect(reference, Window(n, seed, Shift.None, 0), options: options);
        unchangedAny += unchanged.Features.Any(f => f.Drifted) ? 1 : 0;
        unchangedFeatureFlags += unchanged.Features.Count(f => f.Drifted);
        unchangedJudged += unchanged.JudgedCount;
        maxUnchangedPsi = Math.Max(maxUnchangedPsi, unchanged.Features.Max(f => f.Psi ?? 0));
        maxUnchangedW = Math.Max(maxUnchangedW, unchanged.Features.Where(f => f.Test == "wasserstein").Max(f => f.Statistic ?? 0));
        maxUnchangedJs = Math.Max(maxUnchangedJs, unchanged.Features.Where(f => f.Test == "jensen-shannon").Max(f => f.Statistic ?? 0));
        var charges = DriftDetector.Detect(reference, Window(n, seed + 500, Shift.Charges, chargesShift), options: options).Features.Single(f => f.Feature == "monthlyCharges");
        chargesCaught += charges.Drifted ? 1 : 0;
        minShiftedW = Math.Min(minShiftedW, charges.Statistic ?? 0);
        minShiftedPsi = Math.Min(minShiftedPsi, charges.Psi ?? 0);
        var contract = DriftDetector.Detect(reference, Window(n, seed + 700, Shift.Contract, contractShift), options: options).Features.Single(f => f.Feature == "contract");
        contractCaught += contract.Drifted ? 1 : 0;
        minShiftedJs = Math.Min(minShiftedJs, contract.Statistic ?? 0);
    }
    var row = new
    {
        rows = n,
        windows = reps[s],
        unchangedFeatureFalseAlarmRate = (double)unchangedFeatureFlags / unchangedJudged,
        unchangedWindowsWithAnyFlag = (double)unchangedAny / reps[s],
        chargesDetectionRate = (double)chargesCaught / reps[s],
        contractDetectionRate = (double)contractCaught / reps[s],
        maxUnchangedPsi,
        minShiftedChargesPsi = minShiftedPsi,
        maxUnchangedWasserstein = maxUnchangedW,
        minShiftedWasserstein = minShiftedW,
        maxUnchangedJensenShannon = maxUnchangedJs,
        minShiftedJensenShannon = minShiftedJs,
    };
    Console.Error.WriteLine(JsonSerializer.Serialize(row));
    rows.Add(row);
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    psiThreshold = options.PsiThreshold,
    wassersteinThreshold = options.WassersteinThreshold,
    jensenShannonThreshold = options.JensenShannonThreshold,
    monthlyChargesShift = chargesShift,
    contractShift,
    sizes = rows,
}, new JsonSerializerOptions { WriteIndented = true }));

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;

double PsiOf(string feature, Dataset window) =>
    DriftDetector.Detect(reference, window, options: new DriftOptions()).Features.Single(f => f.Feature == feature).Psi ?? 0;

static double Solve(Func<double, double> psi, double low, double high)
{
    for (var i = 0; i < 30; i++)
    {
        var mid = (low + high) / 2;
        (low, high) = psi(mid) < 0.1 ? (mid, high) : (low, mid);
    }
    return (low + high) / 2;
}

// A window of generated customers as a dataset, built column by column without a CSV round trip. Shift.Charges adds
// the amount to every monthly charge; Shift.Contract moves that share of two-year customers to month-to-month.
Dataset Window(int n, int seed, Shift shift, double amount)
{
    var columns = schema.Features.Select(f => new FeatureColumn(f, n)).ToArray();
    var random = new Random(seed);
    var r = 0;
    foreach (var customer in new CustomerGenerator().Customers(new GeneratorOptions { Rows = n, Seed = seed }))
    {
        var cells = CustomerGenerator.ToCells(customer);
        for (var f = 0; f < columns.Length; f++)
        {
            var cell = cells[f + 1];
            var column = columns[f];
            if (column.Categories is { } categories)
            {
                categories[r] = cell.Length == 0 ? null : cell;
            }
            else
            {
                column.Numbers![r] = cell.Length == 0 ? double.NaN
                    : column.Spec.Kind == FeatureKind.Boolean ? (cell == "Yes" ? 1 : 0)
                    : double.Parse(cell, CultureInfo.InvariantCulture);
            }
        }
        if (shift == Shift.Charges)
        {
            columns[2].Numbers![r] += amount;
        }
        else if (shift == Shift.Contract && columns[1].Categories![r] == "Two year" && random.NextDouble() < amount)
        {
            columns[1].Categories![r] = "Month-to-month";
        }
        r++;
    }
    return new Dataset(schema, columns, new string?[n], null, new long[n], $"window-{seed}");
}

internal enum Shift
{
    None,
    Charges,
    Contract,
}
