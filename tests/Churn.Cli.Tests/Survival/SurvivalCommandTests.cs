namespace Churn.Cli.Tests.Survival;

/// <summary>A folder with a seeded time-to-churn file: customers whose monthly hazard rises with x and on plan b.</summary>
public sealed class SurvivalFilesFixture
{
    public SurvivalFilesFixture()
    {
        Dir = Scratch.NewDirectory("churn-cli");
        var random = new Random(7);
        var csv = new StringBuilder("id,x,plan,monthly,months,churned\n");
        for (var i = 0; i < 600; i++)
        {
            var x = random.NextDouble() * 2 - 1;
            var plan = random.NextDouble() < 0.5 ? "a" : "b";
            var rate = 0.06 * Math.Exp(2 * x + (plan == "b" ? 0.7 : 0));
            var churn = -Math.Log(1 - random.NextDouble()) / rate;
            var seen = Math.Min(12, -Math.Log(1 - random.NextDouble()) / 0.08);
            var churned = churn <= seen;
            csv.Append(CultureInfo.InvariantCulture, $"c{i},{x:0.000},{plan},{20 + random.Next(20)},{Math.Max(1, Math.Ceiling(churned ? churn : seen))},{(churned ? 1 : 0)}\n");
        }
        File.WriteAllText(Path.Combine(Dir, "customers.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(Dir, "folds.csv"), "row,fold\n" + string.Concat(Enumerable.Range(0, 600).Select(r => $"{r},{r % 3}\n")));
    }

    public string Dir { get; }

    public string Write(string name, string content)
    {
        File.WriteAllText(Path.Combine(Dir, name), content);
        return name;
    }
}

public class SurvivalCommandTests(SurvivalFilesFixture files) : IClassFixture<SurvivalFilesFixture>
{
    private static readonly string[] Columns = ["--duration", "months", "--event", "churned", "--event-value", "1"];

    [Fact]
    public void SurvivalTrainPrintsTheCIndexBrierScoreCalibrationAndCrossValidation()
    {
        var run = ChurnCli.Run(files.Dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--cv", "3", "--json"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal("boostedHazard", root.GetProperty("method").GetString());
        Assert.InRange(root.GetProperty("cIndex").GetDouble(), 0.65, 1);
        Assert.InRange(root.GetProperty("integratedBrier").GetDouble(), 0.01, 0.25);
        var calibration = root.GetProperty("calibration").EnumerateArray().ToArray();
        Assert.Equal([1.0, 3, 6, 12], calibration.Select(c => c.GetProperty("horizon").GetDouble()));
        Assert.All(calibration, c => Assert.InRange(c.GetProperty("predicted").GetDouble() - c.GetProperty("observed").GetDouble(), -0.1, 0.1));
        var cv = root.GetProperty("cv");
        Assert.Equal(3, cv.GetProperty("folds").GetInt32());
        Assert.InRange(cv.GetProperty("cIndex").GetProperty("mean").GetDouble(), 0.65, 1);
        Assert.True(cv.GetProperty("cIndex").GetProperty("sd").GetDouble() > 0);
        Assert.Equal(3, cv.GetProperty("integratedBrier").GetProperty("folds").GetArrayLength());
    }

    [Fact]
    public void SurvivalTrainReadsAFoldFileAndASchemaFile()
    {
        var schema = files.Write("schema.json", """
            { "idColumn": "id", "labelColumn": "churned", "positiveLabel": "1", "durationColumn": "months", "horizons": [2, 6],
              "features": [ { "name": "x", "kind": "Numeric" }, { "name": "plan", "kind": "Categorical" } ], "drop": [ "monthly" ] }
            """);

        var run = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--schema", schema, "--folds", "folds.csv", "--method", "cox", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("cox", json.RootElement.GetProperty("method").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("cv").GetProperty("folds").GetInt32());
        Assert.Equal([2.0, 6], json.RootElement.GetProperty("horizons").EnumerateArray().Select(h => h.GetDouble()));
    }

    [Fact]
    public void ATrainedSurvivalModelIsRegisteredUnderItsOwnNameAndCanBePromoted()
    {
        var dir = Scratch.NewDirectory("churn-cli");
        File.Copy(Path.Combine(files.Dir, "customers.csv"), Path.Combine(dir, "customers.csv"));

        var first = ChurnCli.Run(dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--method", "cox", "--promote", "--out", "model", "--json"]);
        var second = ChurnCli.Run(dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--method", "cox", "--json"]);
        var list = ChurnCli.Run(dir, "models", "list", "--json");

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        using var one = JsonDocument.Parse(first.Stdout);
        using var two = JsonDocument.Parse(second.Stdout);
        Assert.Equal("churn-survival", one.RootElement.GetProperty("name").GetString());
        Assert.Equal(1, one.RootElement.GetProperty("version").GetInt32());
        Assert.True(one.RootElement.GetProperty("champion").GetBoolean());
        Assert.Equal(2, two.RootElement.GetProperty("version").GetInt32());
        Assert.False(two.RootElement.GetProperty("champion").GetBoolean());
        Assert.True(File.Exists(Path.Combine(dir, "model", "model.zip")));
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "model", "card.json")));
        Assert.Equal("survival", card.RootElement.GetProperty("kind").GetString());
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains("churn-survival", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void PromoteIfBetterReplacesTheChampionOnlyWhenTheNewVersionRanksTheHeldOutCustomersBetter()
    {
        var dir = Scratch.NewDirectory("churn-cli");
        File.Copy(Path.Combine(files.Dir, "customers.csv"), Path.Combine(dir, "customers.csv"));
        string[] weak = ["survival", "train", "--data", "customers.csv", .. Columns, "--method", "cox", "--drop", "x,plan", "--promote-if-better", "--json"];

        var first = ChurnCli.Run(dir, weak);
        var better = ChurnCli.Run(dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--method", "cox", "--promote-if-better", "--json"]);
        var worse = ChurnCli.Run(dir, weak);
        var both = ChurnCli.Run(dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--promote", "--promote-if-better"]);

        Assert.True(first.ExitCode == 0, first.Stderr);
        using var one = JsonDocument.Parse(first.Stdout);
        Assert.True(one.RootElement.GetProperty("champion").GetBoolean());
        Assert.Equal(JsonValueKind.Null, one.RootElement.GetProperty("promotion").ValueKind);
        Assert.True(better.ExitCode == 0, better.Stderr);
        using var two = JsonDocument.Parse(better.Stdout);
        var promoted = two.RootElement.GetProperty("promotion");
        Assert.True(promoted.GetProperty("promote").GetBoolean(), promoted.GetProperty("reason").GetString());
        Assert.Equal("C-index", promoted.GetProperty("metric").GetString());
        Assert.True(two.RootElement.GetProperty("champion").GetBoolean());
        Assert.True(worse.ExitCode == 0, worse.Stderr);
        using var three = JsonDocument.Parse(worse.Stdout);
        var refused = three.RootElement.GetProperty("promotion");
        Assert.False(refused.GetProperty("promote").GetBoolean());
        Assert.False(three.RootElement.GetProperty("champion").GetBoolean());
        Assert.StartsWith("challenger v3 C-index", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("does not beat champion v2", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(refused.GetProperty("champion").GetDouble() > refused.GetProperty("challenger").GetDouble());
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("--promote or --promote-if-better", both.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ADurationColumnNamedAsAFeatureIsRefused()
    {
        var schema = files.Write("leaky.json", """
            { "labelColumn": "churned", "positiveLabel": "1", "durationColumn": "months",
              "features": [ { "name": "x", "kind": "Numeric" }, { "name": "months", "kind": "Numeric" } ] }
            """);

        var run = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--schema", schema);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("duration column 'months' is listed as a feature", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,0.1,a,20,3,1\nb,0.2,b,25,-1,0\n", "line 3", "'months'", "negative")]
    [InlineData("a,0.1,a,20,3,1\nb,0.2,b,25,,0\n", "line 3", "'months'", "missing")]
    [InlineData("a,0.1,a,20,3,1\nb,0.2,b,25,4,0\nc,0.3,a,22,5,7\n", "'churned'", "positive", "")]
    public void BadDurationsAndEventsAreNamed(string rows, string first, string second, string third)
    {
        var file = files.Write($"bad-{Guid.NewGuid():N}.csv", "id,x,plan,monthly,months,churned\n" + rows);

        var run = ChurnCli.Run(files.Dir, ["survival", "train", "--data", file, .. Columns]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(first, run.Stderr, StringComparison.Ordinal);
        Assert.Contains(second, run.Stderr, StringComparison.Ordinal);
        Assert.Contains(third, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6,24", "--horizons: 24 is beyond the longest observed duration (12) in column 'months'")]
    [InlineData("6,x", "--horizons: 'x' is not a positive number")]
    [InlineData("6,3", "--horizons must be in ascending order")]
    public void BadHorizonsAreNamed(string horizons, string message)
    {
        var run = ChurnCli.Run(files.Dir, ["survival", "train", "--data", "customers.csv", .. Columns, "--horizons", horizons]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AHorizonBeyondTheDataInASchemaFileIsNamedAgainstTheFile()
    {
        var schema = files.Write("late.json", """
            { "labelColumn": "churned", "positiveLabel": "1", "durationColumn": "months", "horizons": [6, 24],
              "features": [ { "name": "x", "kind": "Numeric" } ] }
            """);

        var run = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--schema", schema);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("horizons in late.json: 24 is beyond the longest observed duration (12) in column 'months'", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SchemaInferWithADurationProposesASurvivalSchemaAndWarnsAboutColumnsThatTrackTheDuration()
    {
        // A running total (months × monthly) beside the customers: known only because the customer stayed that long.
        var lines = File.ReadAllLines(Path.Combine(files.Dir, "customers.csv"));
        var withTotal = files.Write("with-total.csv", string.Concat(lines.Select((line, i) =>
        {
            var cells = line.Split(',');
            return line + "," + (i == 0 ? "total" : (double.Parse(cells[4], CultureInfo.InvariantCulture) * double.Parse(cells[3], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture)) + "\n";
        })));

        var infer = ChurnCli.Run(files.Dir, "schema", "infer", "--data", withTotal, "--label", "churned", "--positive", "1", "--id", "id", "--duration", "months");
        var plain = ChurnCli.Run(files.Dir, "schema", "infer", "--data", withTotal, "--label", "churned", "--positive", "1", "--id", "id");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        using var json = JsonDocument.Parse(infer.Stdout);
        Assert.Equal("months", json.RootElement.GetProperty("durationColumn").GetString());
        var features = json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToArray();
        Assert.DoesNotContain("months", features);
        Assert.Contains("total", features);
        Assert.Contains("warning: column 'total' has a rank correlation", infer.Stderr, StringComparison.Ordinal);
        Assert.Contains("with the duration 'months'", infer.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning: column 'monthly'", infer.Stderr, StringComparison.Ordinal);
        // Without a duration there is nothing to track, and the schema is a plain dataset schema.
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.DoesNotContain("warning:", plain.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("durationColumn", plain.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ASurvivalSchemaProposedBySchemaInferTrainsAModel()
    {
        var infer = ChurnCli.Run(files.Dir, "schema", "infer", "--data", "customers.csv", "--label", "churned", "--positive", "1", "--duration", "months", "--out", "proposed.json");
        var train = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--schema", "proposed.json", "--method", "cox", "--json");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Contains("Schema written to proposed.json", infer.Stderr, StringComparison.Ordinal);
        Assert.True(train.ExitCode == 0, train.Stderr);
        using var json = JsonDocument.Parse(train.Stdout);
        Assert.Equal("months", json.RootElement.GetProperty("durationColumn").GetString());
        Assert.InRange(json.RootElement.GetProperty("cIndex").GetDouble(), 0.6, 1);
    }

    [Fact]
    public void SchemaInferProposesOnlyHorizonsTheDataReaches()
    {
        var rows = string.Concat(Enumerable.Range(0, 40).Select(i => $"c{i},{i / 40.0:0.000},{(i % 2 == 0 ? "a" : "b")},{20 + i},{1 + i % 5},{i % 3 % 2}\n"));
        var file = files.Write($"short-{Guid.NewGuid():N}.csv", "id,x,plan,monthly,months,churned\n" + rows);

        var run = ChurnCli.Run(files.Dir, "schema", "infer", "--data", file, "--label", "churned", "--positive", "1", "--duration", "months");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal([1.0, 3], json.RootElement.GetProperty("horizons").EnumerateArray().Select(h => h.GetDouble()));
        Assert.Contains("note: horizons 1, 3: the longest duration in 'months' is 5", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SchemaInferRefusesANegativeDurationNamingTheLineAndColumn()
    {
        var file = files.Write($"negative-{Guid.NewGuid():N}.csv", "id,x,plan,monthly,months,churned\na,0.1,a,20,3,1\nb,0.2,b,25,-1,0\n");

        var run = ChurnCli.Run(files.Dir, "schema", "infer", "--data", file, "--label", "churned", "--positive", "1", "--duration", "months");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("line 3", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("'months'", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEventValueIsRequiredWithoutASchema()
    {
        var run = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--duration", "months", "--event", "churned");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--event-value", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDurationColumnIsNamed()
    {
        var run = ChurnCli.Run(files.Dir, "survival", "train", "--data", "customers.csv", "--duration", "tenure", "--event", "churned", "--event-value", "1");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'tenure'", run.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>The benchmark protocol of the time-to-churn section: the reference files, their fold files, and the Cox C-index to reach.</summary>
public class SurvivalReferenceDataTests
{
    [SharedDataFact]
    public void OnSaasDataTheCrossValidatedCIndexReachesTheCoxBaseline()
    {
        var data = SharedData.Folder!;
        var run = ChurnCli.Run(Scratch.NewDirectory("churn-cli"), "survival", "train", "--data", Path.Combine(data, "saas_churn_survival.csv"),
            "--duration", "months_active", "--event", "churned", "--event-value", "1", "--folds", Path.Combine(data, "folds", "saas_survival.csv"), "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.True(json.RootElement.GetProperty("cv").GetProperty("cIndex").GetProperty("mean").GetDouble() >= 0.8631, run.Stdout);
    }

    [SharedDataFact]
    public void OnTelcoTheCrossValidatedCIndexReachesTheCoxBaselineAndTotalChargesIsPointedOut()
    {
        var data = SharedData.Folder!;
        var telco = Path.Combine(data, "WA_Fn-UseC_-Telco-Customer-Churn.csv");
        string[] columns = ["--duration", "tenure", "--event", "Churn", "--event-value", "Yes"];
        var run = ChurnCli.Run(Scratch.NewDirectory("churn-cli"), ["survival", "train", "--data", telco, .. columns, "--drop", "customerID,TotalCharges",
            "--folds", Path.Combine(data, "folds", "telco.csv"), "--json"]);
        var leaky = ChurnCli.Run(Scratch.NewDirectory("churn-cli"), ["survival", "train", "--data", telco, .. columns, "--method", "cox", "--json"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.True(json.RootElement.GetProperty("cv").GetProperty("cIndex").GetProperty("mean").GetDouble() >= 0.8682, run.Stdout);
        Assert.True(leaky.ExitCode == 0, leaky.Stderr);
        using var leakyJson = JsonDocument.Parse(leaky.Stdout);
        Assert.Contains(leakyJson.RootElement.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("column 'TotalCharges' has a rank correlation", StringComparison.Ordinal));
    }
}
