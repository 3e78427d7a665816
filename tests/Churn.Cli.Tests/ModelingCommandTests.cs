namespace Churn.Cli.Tests;

/// <summary>One generated dataset and one trained model shared by the modelling command tests.</summary>
public sealed class TrainedCliFixture
{
    public TrainedCliFixture()
    {
        Dir = Scratch.NewDirectory("churn-cli");
        Generate = ChurnCli.Run(Dir, "generate", "--rows", "2000", "--seed", "3", "--out", "customers.csv", "--schema-out", "schema.json");
        ChurnCli.Run(Dir, "generate", "--rows", "500", "--seed", "4", "--drift", "1", "--out", "drifted.csv");
        // The logistic trainer keeps this fixture quick on a busy machine; the tree recipe is covered by the Core tests.
        Train = ChurnCli.Run(Dir, "train", "--data", "customers.csv", "--schema", "schema.json", "--trainer", "logistic", "--cv", "3", "--out", "model", "--json");
    }

    public string Dir { get; }
    public CliRun Generate { get; }
    public CliRun Train { get; }
}

[CollectionDefinition(Name)]
public sealed class TrainedCliCollection : ICollectionFixture<TrainedCliFixture>
{
    public const string Name = "trained model on disk";
}

[Collection(TrainedCliCollection.Name)]
public class ModelingCommandTests(TrainedCliFixture fixture)
{
    [Fact]
    public void TrainPrintsOneJsonObjectWithMetricsThresholdAndCrossValidation()
    {
        Assert.Equal(0, fixture.Generate.ExitCode);
        Assert.True(fixture.Train.ExitCode == 0, fixture.Train.Stderr);
        using var json = JsonDocument.Parse(fixture.Train.Stdout);
        var root = json.RootElement;
        var metrics = root.GetProperty("metrics");

        foreach (var name in new[] { "auc", "aucPr", "logLoss", "brier", "f1", "accuracy" })
        {
            Assert.InRange(metrics.GetProperty(name).GetDouble(), 0, 1);
        }
        Assert.True(metrics.GetProperty("auc").GetDouble() > 0.7);
        Assert.InRange(root.GetProperty("threshold").GetDouble(), 0, 1);
        Assert.InRange(root.GetProperty("cv").GetProperty("auc").GetProperty("mean").GetDouble(), 0.7, 1);
        Assert.True(root.GetProperty("cv").GetProperty("auc").GetProperty("sd").GetDouble() >= 0);
        Assert.True(File.Exists(Path.Combine(fixture.Dir, "model", "model.zip")));
        Assert.True(File.Exists(Path.Combine(fixture.Dir, "model", "card.json")));
    }

    [Fact]
    public void PredictWritesOneResultRowPerCustomer()
    {
        var run = ChurnCli.Run(fixture.Dir, "predict", "--model", "model/model.zip", "--data", "drifted.csv", "--out", "scored.csv", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = File.ReadAllLines(Path.Combine(fixture.Dir, "scored.csv"));
        Assert.Equal(501, lines.Length);
        Assert.StartsWith("line,customer_id,churn_probability,will_churn,risk_tier", lines[0], StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(500, json.RootElement.GetProperty("summary").GetProperty("rows").GetInt64());
        // The drifted file has a payment method the model never saw; those rows are scored and flagged.
        Assert.Contains(lines, l => l.Contains("paymentMethod", StringComparison.Ordinal));
    }

    [Fact]
    public void PredictWithContributionsWritesTheBaseAndOneColumnPerFeatureAddingUpToTheLogOdds()
    {
        var run = ChurnCli.Run(fixture.Dir, "predict", "--model", "model/model.zip", "--data", "drifted.csv", "--out", "explained.csv", "--contributions", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("log-odds", json.RootElement.GetProperty("contributionUnit").GetString());
        var lines = File.ReadAllLines(Path.Combine(fixture.Dir, "explained.csv"));
        Assert.Equal(501, lines.Length);
        var header = lines[0].Split(',');
        var shap = header.Select((h, i) => (h, i)).Where(c => c.h.StartsWith("shap_", StringComparison.Ordinal)).ToList();
        Assert.Equal("shap_base", shap[0].h);
        Assert.Equal(Churn.Core.Generation.CustomerGenerator.Schema.Features.Select(f => "shap_" + f.Name), shap.Skip(1).Select(c => c.h));
        var probability = Array.IndexOf(header, "churn_probability");
        foreach (var line in lines.Skip(1))
        {
            // Unseen categories are listed with ';' inside one cell, so a plain split by ',' keeps the columns.
            var cells = line.Split(',');
            var p = double.Parse(cells[probability], CultureInfo.InvariantCulture);
            var sum = shap.Sum(c => double.Parse(cells[c.i], CultureInfo.InvariantCulture));
            // The file's probability has six decimals; the log-odds it implies is that precise.
            Assert.True(Math.Abs(Math.Log(p / (1 - p)) - sum) <= 5e-7 / (p * (1 - p)) + 1e-9, $"{line}: sum {sum}");
        }
    }

    [Fact]
    public void EvaluateReportsMetricsOnAnotherFile()
    {
        var run = ChurnCli.Run(fixture.Dir, "evaluate", "--model", "model/model.zip", "--data", "drifted.csv", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(500, json.RootElement.GetProperty("metrics").GetProperty("rows").GetInt32());
        Assert.Equal(10, json.RootElement.GetProperty("metrics").GetProperty("lift").GetArrayLength());
    }

    [Fact]
    public void QualityReportFlagsUnseenCategoriesAgainstTheModel()
    {
        var run = ChurnCli.Run(fixture.Dir, "quality", "--model", "model/model.zip", "--data", "drifted.csv", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var payment = json.RootElement.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("column").GetString() == "paymentMethod");
        Assert.True(payment.GetProperty("unseenCategories").TryGetProperty("Digital wallet", out _));
    }

    [Fact]
    public void SchemaInferWritesAReviewableSchema()
    {
        var run = ChurnCli.Run(fixture.Dir, "schema", "infer", "--data", "customers.csv", "--label", "churned", "--positive", "Yes", "--out", "inferred.json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var schema = File.ReadAllText(Path.Combine(fixture.Dir, "inferred.json"));
        Assert.Contains("\"idColumn\": \"customerId\"", schema, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"contract\"", schema, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDataFileExitsNonZeroWithOneSentence()
    {
        var run = ChurnCli.Run(fixture.Dir, "train", "--data", "nope.csv", "--label", "x", "--positive", "1");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("churn: Data file 'nope.csv' does not exist.", run.Stderr.Trim());
    }

    [Fact]
    public void MalformedCsvNamesTheLineAndColumn()
    {
        File.WriteAllText(Path.Combine(fixture.Dir, "bad.csv"), "a,b,churn\n1,2,1\n3,\"x,0\n");

        var run = ChurnCli.Run(fixture.Dir, "train", "--data", "bad.csv", "--label", "churn", "--positive", "1");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad.csv: line 3, column 2: a quoted field is never closed.", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownTrainerIsRefusedByTheParser()
    {
        var run = ChurnCli.Run(fixture.Dir, "train", "--data", "customers.csv", "--schema", "schema.json", "--trainer", "forest");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("forest", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainingWithoutSchemaOrLabelSaysWhatToGive()
    {
        var run = ChurnCli.Run(fixture.Dir, "train", "--data", "customers.csv");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("give --schema FILE, or --label COLUMN and --positive VALUE", run.Stderr, StringComparison.Ordinal);
    }
}

[Collection(TrainedCliCollection.Name)]
public class DriftCommandTests(TrainedCliFixture fixture)
{
    [Fact]
    public void DriftAgainstTheModelFindsTheShiftAndWritesAnHtmlReport()
    {
        var run = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", "drifted.csv", "--html", "drift.html", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(run.Stdout);
        var features = json.RootElement.GetProperty("features").EnumerateArray().ToList();
        Assert.Contains(features, f => f.GetProperty("name").GetString() == "paymentMethod" && f.GetProperty("drifted").GetBoolean());
        Assert.True(json.RootElement.GetProperty("score").GetProperty("drifted").GetBoolean());
        var html = File.ReadAllText(Path.Combine(fixture.Dir, "drift.html"));
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("paymentMethod", html, StringComparison.Ordinal);
    }

    [Fact]
    public void DriftBetweenTwoFilesNeedsASchema()
    {
        var run = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--current", "drifted.csv");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--reference needs --schema FILE", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DriftBetweenTwoFilesPrintsATable()
    {
        var run = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", "drifted.csv");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("monthlyCharges", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("features drifted", run.Stdout, StringComparison.Ordinal);
    }
}
