using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Scoring;

// ExplainTiming MODEL.zip TELCO.csv OUT.json LABEL
// Scores every Telco row in rotation, alternating blocks without reasons and with the five reasons /predict returns,
// after a warm-up past ML.NET's slow first predictions. The explanation's cost is the difference of the medians.
var model = ChurnModel.Load(args[0]);
var data = DatasetLoader.Load(args[1], model.Card.Schema, LabelRequirement.Optional);
var rows = Enumerable.Range(0, data.RowCount).Select(data.Row).ToArray();
var scorer = new ChurnScorer(model);
scorer.WarmUp(25_000);
for (var i = 0; i < 3 * rows.Length; i++)
{
    scorer.Score(rows[i % rows.Length], reasons: 5);
}

const int Blocks = 15;
var plain = new List<double>();
var explained = new List<double>();
var sink = 0.0;
for (var b = 0; b < Blocks; b++)
{
    foreach (var (reasons, into) in new[] { (0, plain), (5, explained) })
    {
        var clock = Stopwatch.StartNew();
        foreach (var row in rows)
        {
            sink += scorer.Score(row, reasons).Probability;
        }
        into.Add(clock.Elapsed.TotalMicroseconds / rows.Length);
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

var result = new
{
    label = args[3],
    rows = rows.Length,
    blocks = Blocks,
    packageFormat = model.Card.Format,
    trees = model.Card.Parameters.GetValueOrDefault("trees"),
    treeWeight = model.Card.Parameters.GetValueOrDefault("treeWeight"),
    testAuc = model.Card.Metrics.Auc,
    scoreMicroseconds = Median(plain),
    scoreWith5ReasonsMicroseconds = Median(explained),
    explanationMicroseconds = Median(explained) - Median(plain),
    loadavg = File.ReadAllText("/proc/loadavg").Trim(),
    checksum = sink.ToString("0.###", CultureInfo.InvariantCulture),
};
File.WriteAllText(args[2], JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine(JsonSerializer.Serialize(result));
