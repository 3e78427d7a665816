using System.Globalization;
using Churn.Core.Generation;

namespace Churn.Data.Retraining;

/// <summary>
/// Generated customers to train on (<see cref="CustomerGenerator"/>): the first model of a fresh install, and the training
/// base a demo or test can ask a retraining to use instead of the reference data. Kept as a CSV in the data directory.
/// </summary>
public sealed record GeneratedSample(int Rows, int Seed, double Drift)
{
    /// <summary>Where this sample lives in <paramref name="dataDir"/>: <c>data/customers-&lt;rows&gt;-seed&lt;seed&gt;-drift&lt;drift&gt;.csv</c>.</summary>
    public string PathIn(string dataDir) =>
        Path.Combine(dataDir, "data", $"customers-{Rows}-seed{Seed}-drift{Drift.ToString("0.###", CultureInfo.InvariantCulture)}.csv");

    /// <summary>Writes the sample unless it already exists, and returns its path.</summary>
    public async Task<string> EnsureAsync(string dataDir, CancellationToken cancellationToken)
    {
        var csv = PathIn(dataDir);
        await Task.Run(() => Write(csv), cancellationToken);
        return csv;
    }

    private void Write(string path)
    {
        if (File.Exists(path))
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written to a temporary name and renamed, so a half-written file is never mistaken for the sample.
        var temp = path + ".tmp";
        using (var writer = new StreamWriter(temp))
        {
            new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = Rows, Seed = Seed, Drift = Drift }, writer);
        }
        File.Move(temp, path, overwrite: true);
    }
}
