namespace Churn.Cli.Tests;

public sealed class UpliftCommandTests : CommandFolderTests
{
    [Fact]
    public void UpliftModelsFindThePersuadableSegmentOfAGeneratedCampaign()
    {
        // Treatment raises the outcome from 10 % to 40 % for plan "gold" customers and does nothing for the rest;
        // "bronze" customers visit at 50 % anyway (sure things), so ranking by response alone picks the wrong ones.
        var csv = new StringBuilder("tenure,plan,arm,visit,spend\n");
        var random = new Random(11);
        for (var i = 0; i < 4000; i++)
        {
            var plan = random.Next(3) switch { 0 => "gold", 1 => "silver", _ => "bronze" };
            var treated = random.Next(2) == 0;
            var visit = random.NextDouble() < (plan == "bronze" ? 0.5 : 0.1) + (treated && plan == "gold" ? 0.3 : 0);
            csv.Append(CultureInfo.InvariantCulture, $"{random.Next(1, 72)},{plan},{(treated ? "mail" : "none")},{(visit ? 1 : 0)},{(visit ? 20 : 0)}\n");
        }
        File.WriteAllText(Dir.Combine("history.csv"), csv.ToString());

        var run = ChurnCli.Run(Dir.Path, "uplift", "train", "--data", "history.csv", "--arm-column", "arm", "--treated", "mail", "--control", "none",
            "--outcome", "visit", "--drop", "spend", "--cv", "3", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        // Every method is judged, and the one chosen has the highest out-of-fold Qini coefficient.
        var candidates = root.GetProperty("candidates").EnumerateArray().ToDictionary(c => c.GetProperty("method").GetString()!, c => c.GetProperty("qini").GetDouble());
        Assert.Equal(["ClassTransformation", "LogisticInteraction", "TwoModel", "XLearner"], candidates.Keys.Order());
        Assert.Equal(candidates.MaxBy(c => c.Value).Key, root.GetProperty("method").GetString());
        var randomHigh = root.GetProperty("baselines").GetProperty("random").GetProperty("qiniCi")[1].GetDouble();
        Assert.True(root.GetProperty("qiniCi")[0].GetDouble() > randomHigh, run.Stdout);
        // A third of customers are gold, so the top 30 % should be nearly all gold: uplift close to 0.3.
        Assert.InRange(root.GetProperty("upliftAt30").GetDouble(), 0.2, 0.4);
        var response = root.GetProperty("baselines").GetProperty("response").GetProperty("qini").GetDouble();
        Assert.True(root.GetProperty("qini").GetDouble() > response, run.Stdout);
    }

    [SharedDataFact]
    public void HillstromWomensEmailUpliftOnThePublishedFoldsReachesThePeerTLearnerAndIsSeparatedFromRandomOrder()
    {
        // The benchmark protocol: Womens E-Mail against No E-Mail, outcome visit, the published 5-fold assignment, seed 42.
        var folds = SharedData.PathOf("folds/hillstrom_womens_vs_control.csv");
        Assert.True(File.Exists(folds), $"{folds} is missing beside hillstrom.csv.");
        var run = ChurnCli.Run(Dir.Path, "uplift", "train", "--data", SharedData.PathOf("hillstrom.csv"), "--arm-column", "segment",
            "--treated", "Womens E-Mail", "--control", "No E-Mail", "--outcome", "visit",
            "--features", "recency,history,mens,womens,zip_code,newbie,channel", "--cv", "5", "--folds", folds, "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(21_387, root.GetProperty("treated").GetInt32());
        Assert.Equal(21_306, root.GetProperty("control").GetInt32());
        var random = root.GetProperty("baselines").GetProperty("random");
        Assert.True(root.GetProperty("qiniCi")[0].GetDouble() > random.GetProperty("qiniCi")[1].GetDouble(), run.Stdout);
        Assert.True(root.GetProperty("upliftAt30Ci")[0].GetDouble() > random.GetProperty("upliftAt30Ci")[1].GetDouble(), run.Stdout);
        // The peer's two-model T-learner (BENCHMARKS.md): Qini 0.061, uplift at 30 % +0.076; ours is in bench/results/uplift.md.
        Assert.True(root.GetProperty("qini").GetDouble() >= 0.061, run.Stdout);
        Assert.True(root.GetProperty("upliftAt30").GetDouble() >= 0.076, run.Stdout);
    }

    [Theory]
    [InlineData("missing-last", "has no fold for data row 39")]
    [InlineData("fold-out-of-range", "puts data row 0 in fold 2; folds run from 0 to 1")]
    [InlineData("not-a-number", "line 2, column 2: 'first' in 'fold' is not a whole number")]
    [InlineData("listed-twice", "row 0 is listed twice")]
    [InlineData("no-fold-column", "the header has no column 'fold'")]
    public void BadFoldFilesFailWithOneSentence(string fault, string expected)
    {
        File.WriteAllText(Dir.Combine("h.csv"), SmallHistory());
        var rows = Enumerable.Range(0, 40).Select(i => $"{i},{i % 2}").ToList();
        var content = fault switch
        {
            "missing-last" => "row,fold\n" + string.Join("\n", rows.Take(39)),
            "fold-out-of-range" => "row,fold\n0,2\n" + string.Join("\n", rows.Skip(1)),
            "not-a-number" => "row,fold\n0,first\n" + string.Join("\n", rows.Skip(1)),
            "listed-twice" => "row,fold\n" + string.Join("\n", rows) + "\n0,1",
            _ => "row,part\n" + string.Join("\n", rows),
        };
        File.WriteAllText(Dir.Combine("folds.csv"), content + "\n");

        var run = ChurnCli.Run(Dir.Path, "uplift", "train", "--data", "h.csv", "--arm-column", "arm", "--treated", "mail", "--control", "none",
            "--outcome", "visit", "--features", "tenure", "--cv", "2", "--bags", "1", "--folds", "folds.csv");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOutcomeWithMoreThanTwoValuesIsRefusedNamingTheColumn()
    {
        File.WriteAllText(Dir.Combine("h.csv"), SmallHistory().Replace(",1\n", ",2\n", StringComparison.Ordinal).Replace("tenure,arm,visit\n", "tenure,arm,visit\n3,mail,1\n", StringComparison.Ordinal));

        var run = ChurnCli.Run(Dir.Path, "uplift", "train", "--data", "h.csv", "--arm-column", "arm", "--treated", "mail", "--control", "none", "--outcome", "visit");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("The outcome column 'visit' has more than two values", run.Stderr, StringComparison.Ordinal);
    }

    private static string SmallHistory() =>
        "tenure,arm,visit\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 10},{(i % 2 == 0 ? "mail" : "none")},{i % 3 % 2}\n"));

    [Theory]
    [InlineData("--bags", "0", "--bags must be from 1 to 20")]
    [InlineData("--treated", "letter", "treated arm 'letter' does not occur")]
    [InlineData("--control", "letter", "control arm 'letter' does not occur")]
    [InlineData("--cv", "1", "--cv must be at least 2")]
    [InlineData("--features", "tenure,colour", "'colour' is not a usable feature column")]
    public void BadUpliftArgumentsFailWithOneSentence(string flag, string value, string expected)
    {
        File.WriteAllText(Dir.Combine("h.csv"), SmallHistory());
        var args = new Dictionary<string, string> { ["--treated"] = "mail", ["--control"] = "none", ["--cv"] = "2", ["--features"] = "tenure" };
        args[flag] = value;

        var run = ChurnCli.Run(Dir.Path, ["uplift", "train", "--data", "h.csv", "--arm-column", "arm", "--outcome", "visit", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
    }
}
