namespace Churn.Cli.Tests;

/// <summary>Files as people really save them, through the real churn command: label spellings, yes/no and missing
/// formats, delimiters and decimal commas, byte-order marks and decomposed names, digit customer ids.</summary>
public class InputCommandTests
{
    // A small churn file with a learnable signal: short tenure, the basic plan and paperless billing raise churn.
    private static List<string[]> Customers(int rows = 400, int seed = 5)
    {
        var random = new Random(seed);
        var list = new List<string[]>();
        for (var i = 0; i < rows; i++)
        {
            var tenure = random.Next(1, 72);
            var plan = random.Next(3) switch { 0 => "basic", 1 => "gold", _ => "premium" };
            var paperless = random.Next(2) == 1;
            var charges = Math.Round(20 + random.NextDouble() * 80, 2);
            var risk = (plan == "basic" ? 1.0 : 0) + (paperless ? 0.8 : 0) - tenure / 24.0 + random.NextDouble() * 1.5;
            list.Add([(100_000 + i * 37).ToString("D7", CultureInfo.InvariantCulture), tenure.ToString(CultureInfo.InvariantCulture), plan,
                paperless ? "Yes" : "No", charges.ToString(CultureInfo.InvariantCulture), risk > 0.6 ? "1" : "0"]);
        }
        return list;
    }

    private static readonly string[] Header = ["customer_id", "tenure", "plan", "paperless", "charges", "Exited"];

    private static string Write(StoreDirectory dir, string name, IEnumerable<string[]> rows, char delimiter = ',', string[]? header = null, bool bom = false)
    {
        var text = string.Join('\n', new[] { header ?? Header }.Concat(rows).Select(r => string.Join(delimiter, r))) + "\n";
        var path = dir.Combine(name);
        File.WriteAllBytes(path, [.. (bom ? Encoding.UTF8.GetPreamble() : []), .. Encoding.UTF8.GetBytes(text)]);
        return name;
    }

    private static CliRun Churn(StoreDirectory dir, params string[] args) => ChurnCli.Run(dir.Path, args);

    [Fact]
    public void LabelSpellingsOfOneClassAreReadByValueAndAThirdValueStopsEveryCommand()
    {
        using var dir = new StoreDirectory("churn-cli");
        var rows = Customers();
        var mixed = rows.Select((r, i) => i % 3 == 0 ? [.. r[..^1], r[^1] + ".0"] : i % 7 == 0 ? [.. r[..^1], r[^1] == "1" ? "1e0" : "0"] : r).ToList();
        Write(dir, "mixed.csv", mixed);
        var churners = rows.Count(r => r[^1] == "1");

        var infer = Churn(dir, "schema", "infer", "--data", "mixed.csv", "--label", "Exited", "--positive", "1", "--out", "schema.json");
        var train = Churn(dir, "train", "--data", "mixed.csv", "--schema", "schema.json", "--trainer", "logistic", "--out", "model", "--json");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Contains($"{churners:N0} churned", infer.Stderr, StringComparison.Ordinal);
        Assert.Contains("'1.0'", infer.Stderr, StringComparison.Ordinal);
        Assert.Contains("'1e0'", infer.Stderr, StringComparison.Ordinal);
        using (var schema = JsonDocument.Parse(File.ReadAllText(dir.Combine("schema.json"))))
        {
            Assert.Equal("0", schema.RootElement.GetProperty("negativeLabels")[0].GetString());
        }
        Assert.True(train.ExitCode == 0, train.Stderr);

        // A label value that is neither class: schema infer, train and evaluate all stop and list every value with its count.
        var bad = mixed.Select((r, i) => i < 3 ? [.. r[..^1], "2"] : r).ToList();
        Write(dir, "bad.csv", bad);
        var inferBad = Churn(dir, "schema", "infer", "--data", "bad.csv", "--label", "Exited", "--positive", "1", "--negative", "0");
        var trainBad = Churn(dir, "train", "--data", "bad.csv", "--schema", "schema.json", "--trainer", "logistic");
        var evaluateBad = Churn(dir, "evaluate", "--model", "model/model.zip", "--data", "bad.csv");
        foreach (var run in new[] { inferBad, trainBad, evaluateBad })
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("neither positive ('1') nor negative ('0')", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("'2' (3)", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("'1.0' (", run.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SeveralPositiveAndNegativeSpellingsAreGivenOnTheCommandLine()
    {
        using var dir = new StoreDirectory("churn-cli");
        var words = Customers().Select((r, i) => (string[])[.. r[..^1], r[^1] == "1" ? (i % 2 == 0 ? "Yes" : "TRUE") : (i % 2 == 0 ? "no" : "False")]).ToList();
        Write(dir, "words.csv", words);

        var refused = Churn(dir, "schema", "infer", "--data", "words.csv", "--label", "Exited", "--positive", "yes");
        // Two spellings of each class are still two classes each: without --negative, 'no' and 'False' would be two more.
        var stillTwoOthers = Churn(dir, "schema", "infer", "--data", "words.csv", "--label", "Exited", "--positive", "yes", "--positive", "true");
        var twoClasses = Churn(dir, "schema", "infer", "--data", "words.csv", "--label", "Exited", "--positive", "yes", "--positive", "true",
            "--negative", "no,false", "--out", "s1.json");
        var named = Churn(dir, "train", "--data", "words.csv", "--label", "Exited", "--positive", "YES,True", "--negative", "No", "--negative", "FALSE",
            "--trainer", "logistic", "--json");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("classes besides the positive", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("'TRUE' (", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, stillTwoOthers.ExitCode);
        Assert.True(twoClasses.ExitCode == 0, twoClasses.Stderr);
        Assert.True(named.ExitCode == 0, named.Stderr);
        using var schema = JsonDocument.Parse(File.ReadAllText(dir.Combine("s1.json")));
        Assert.Equal(["yes", "true"], schema.RootElement.GetProperty("positiveLabels").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["no", "false"], schema.RootElement.GetProperty("negativeLabels").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void FlagsWrittenAsNumbersOrAnyCaseScoreLikeYesNo()
    {
        using var dir = new StoreDirectory("churn-cli");
        var rows = Customers();
        Write(dir, "train.csv", rows);
        var flags = new[] { ("1.0", "0.0"), ("1", "0"), ("TRUE", "false"), ("y", "N"), ("1e0", "0e0") };
        var train = Churn(dir, "train", "--data", "train.csv", "--label", "Exited", "--positive", "1", "--trainer", "logistic", "--out", "model");
        Assert.True(train.ExitCode == 0, train.Stderr);
        var baseline = Scores(dir, "train.csv");

        foreach (var (yes, no) in flags)
        {
            var file = Write(dir, $"flags-{yes}.csv", rows.Select(r => (string[])[.. r[..3], r[3] == "Yes" ? yes : no, .. r[4..]]));
            Assert.Equal(baseline, Scores(dir, file));
        }
        // Missing markers are missing, not errors.
        var missing = Write(dir, "missing.csv", rows.Select((r, i) => i == 0 ? (string[])[r[0], "NA", "N/A", "null", "NaN", r[5]] : r));
        var scored = Churn(dir, "predict", "--model", "model/model.zip", "--data", missing, "--out", "m.csv");
        Assert.True(scored.ExitCode == 0, scored.Stderr);
        Assert.DoesNotContain("could not be scored", scored.Stderr, StringComparison.Ordinal);
    }

    private static string[] Scores(StoreDirectory dir, string file)
    {
        var run = Churn(dir, "predict", "--model", "model/model.zip", "--data", file, "--out", "scored.csv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.DoesNotContain("could not be scored", run.Stderr, StringComparison.Ordinal);
        return [.. File.ReadAllLines(dir.Combine("scored.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[1..3]))];
    }

    [Theory]
    [InlineData(';', ",")]
    [InlineData('\t', ",")]
    [InlineData('|', ".")]
    public void OtherDelimitersAndDecimalCommasAreDetectedAndScoreAlike(char delimiter, string decimalMark)
    {
        using var dir = new StoreDirectory("churn-cli");
        var rows = Customers();
        Write(dir, "comma.csv", rows);
        Write(dir, "other.csv", rows.Select(r => (string[])[.. r[..4], r[4].Replace(".", decimalMark, StringComparison.Ordinal), r[5]]), delimiter);

        var infer = Churn(dir, "schema", "infer", "--data", "other.csv", "--label", "Exited", "--positive", "1", "--out", "schema.json");
        var train = Churn(dir, "train", "--data", "comma.csv", "--schema", "schema.json", "--trainer", "logistic", "--out", "model");
        var evaluate = Churn(dir, "evaluate", "--model", "model/model.zip", "--data", "other.csv", "--json");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Contains("-separated", infer.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"charges\",\n      \"kind\": \"Numeric\"", File.ReadAllText(dir.Combine("schema.json")), StringComparison.Ordinal);
        Assert.True(train.ExitCode == 0, train.Stderr);
        Assert.True(evaluate.ExitCode == 0, evaluate.Stderr);
        Assert.Equal(Scores(dir, "comma.csv"), Scores(dir, "other.csv"));
    }

    [Fact]
    public void AForcedDelimiterThatDoesNotFitNamesTheOneTheFileUses()
    {
        using var dir = new StoreDirectory("churn-cli");
        Write(dir, "semi.csv", Customers(), ';');

        var infer = Churn(dir, "schema", "infer", "--data", "semi.csv", "--label", "Exited", "--positive", "1", "--delimiter", ",");
        var forced = Churn(dir, "schema", "infer", "--data", "semi.csv", "--label", "Exited", "--positive", "1", "--delimiter", "semicolon", "--decimal", ".");
        var wrong = Churn(dir, "schema", "infer", "--data", "semi.csv", "--label", "Exited", "--positive", "1", "--delimiter", "x");

        Assert.Equal(1, infer.ExitCode);
        Assert.Contains("looks semicolon-separated", infer.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("no column 'Exited' (", infer.Stderr, StringComparison.Ordinal);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("--delimiter must be one of", wrong.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BomDecomposedNamesAndDigitIdsWithLeadingZerosSurviveTrainAndPredict()
    {
        using var dir = new StoreDirectory("churn-cli");
        var rows = Customers().Select(r => (string[])[r[0], r[1], r[2] == "basic" ? "Bo\u0302te" : r[2], .. r[3..]]).ToList();
        string[] composed = ["customer_id", "tenure", "r\u00e9gion", "paperless", "charges", "Exited"];
        string[] decomposed = ["customer_id", "tenure", "re\u0301gion", "paperless", "charges", "Exited"];
        Write(dir, "train.csv", rows, header: composed);
        Write(dir, "nfd.csv", rows.Select(r => (string[])[r[0], r[1], r[2] == "Bo\u0302te" ? "B\u00f4te" : r[2], .. r[3..]]), header: decomposed, bom: true);

        var infer = Churn(dir, "schema", "infer", "--data", "train.csv", "--label", "Exited", "--positive", "1", "--out", "schema.json");
        var train = Churn(dir, "train", "--data", "train.csv", "--schema", "schema.json", "--trainer", "logistic", "--out", "model");
        var predict = Churn(dir, "predict", "--model", "model/model.zip", "--data", "nfd.csv", "--out", "scored.csv");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Contains("'customer_id' taken as the id column", infer.Stderr, StringComparison.Ordinal);
        Assert.True(train.ExitCode == 0, train.Stderr);
        Assert.True(predict.ExitCode == 0, predict.Stderr);
        var lines = File.ReadAllLines(dir.Combine("scored.csv"));
        Assert.StartsWith("2,0100000,", lines[1], StringComparison.Ordinal);
        // The composed and decomposed spellings of the category are one category: nothing is flagged as unseen.
        Assert.DoesNotContain(lines.Skip(1), l => l.Contains("r\u00e9gion", StringComparison.Ordinal));
    }

    [Fact]
    public void InvalidUtf8IsANamedError()
    {
        using var dir = new StoreDirectory("churn-cli");
        File.WriteAllBytes(dir.Combine("bad.csv"), [.. Encoding.ASCII.GetBytes("a,Exited\n1,"), 0xC3, 0x28, (byte)'\n']);

        var run = Churn(dir, "schema", "infer", "--data", "bad.csv", "--label", "Exited", "--positive", "1");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad.csv: line 2, column 2: the file is not valid UTF-8 text.", run.Stderr, StringComparison.Ordinal);
    }
}
