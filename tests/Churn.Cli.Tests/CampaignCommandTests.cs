namespace Churn.Cli.Tests;

public sealed class CampaignCommandTests : CommandFolderTests
{
    [SharedDataFact]
    public void HillstromReadoutGivesThePublishedArmsEffectsAndSampleRatio()
    {
        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", SharedData.PathOf("hillstrom.csv"),
            "--arm-column", "segment", "--control", "No E-Mail", "--outcome", "visit", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var arms = json.RootElement.GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!);
        Assert.Equal(21_387, arms["Womens E-Mail"].GetProperty("n").GetInt64());
        Assert.Equal(21_307, arms["Mens E-Mail"].GetProperty("n").GetInt64());
        Assert.Equal(21_306, arms["No E-Mail"].GetProperty("n").GetInt64());
        Assert.Equal(15.14, 100 * arms["Womens E-Mail"].GetProperty("rate").GetDouble(), 1e-2);
        Assert.Equal(18.28, 100 * arms["Mens E-Mail"].GetProperty("rate").GetDouble(), 1e-2);
        Assert.Equal(10.62, 100 * arms["No E-Mail"].GetProperty("rate").GetDouble(), 1e-2);
        var effects = json.RootElement.GetProperty("effects").EnumerateArray().ToDictionary(e => e.GetProperty("arm").GetString()!);
        AssertEffect(effects["Womens E-Mail"], 4.52);
        AssertEffect(effects["Mens E-Mail"], 7.66);
        Assert.Equal(0.904, json.RootElement.GetProperty("sampleRatioP").GetDouble(), 1e-3);
    }

    [SharedDataFact]
    public void HillstromReadoutBySegmentSumsToTheWhole()
    {
        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", SharedData.PathOf("hillstrom.csv"),
            "--arm-column", "segment", "--control", "No E-Mail", "--outcome", "visit", "--segment", "channel", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var segments = json.RootElement.GetProperty("segments").EnumerateArray().ToList();
        Assert.Equal(["Multichannel", "Phone", "Web"], segments.Select(s => s.GetProperty("segment").GetString()));
        var total = segments.Sum(s => s.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("n").GetInt64()));
        Assert.Equal(64_000, total);
    }

    [Fact]
    public void ReadoutOfAGeneratedExperimentGivesItsCountsAndAnIntervalAroundTheDifference()
    {
        // Two arms with known counts: 300 of 1,000 treated and 200 of 1,000 held out had the outcome.
        var csv = new StringBuilder("customer,arm,churned,region\n");
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var treated = i < 1000;
            var positive = treated ? i < 300 : i < 1200;
            csv.Append(CultureInfo.InvariantCulture, $"c{i},{(treated ? "offer" : "holdout")},{(positive ? "Yes" : "No")},{(random.Next(2) == 0 ? "north" : "south")}\n");
        }
        File.WriteAllText(Dir.Combine("experiment.csv"), csv.ToString());

        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", "experiment.csv", "--arm-column", "arm", "--control", "holdout",
            "--outcome", "churned", "--segment", "region", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var arms = json.RootElement.GetProperty("arms").EnumerateArray().ToList();
        Assert.Equal("holdout", arms[0].GetProperty("name").GetString());
        Assert.Equal(0.2, arms[0].GetProperty("rate").GetDouble(), 1e-10);
        Assert.Equal(0.3, arms[1].GetProperty("rate").GetDouble(), 1e-10);
        var effect = json.RootElement.GetProperty("effects")[0];
        Assert.Equal(0.1, effect.GetProperty("difference").GetDouble(), 1e-10);
        // The Wald half-width here is 1.96 * sqrt(0.21/1000 + 0.16/1000) = 0.0377; the score interval is close to it.
        Assert.Equal(0.1 - 0.0377, effect.GetProperty("ciLow").GetDouble(), 1e-2);
        Assert.Equal(0.1 + 0.0377, effect.GetProperty("ciHigh").GetDouble(), 1e-2);
        Assert.Equal(1, json.RootElement.GetProperty("sampleRatioP").GetDouble(), 1e-10);
        Assert.Equal(2, json.RootElement.GetProperty("segments").GetArrayLength());
    }

    [Fact]
    public void ReadoutPrintsATableWithoutJson()
    {
        File.WriteAllText(Dir.Combine("small.csv"), "arm,visit\nA,1\nA,0\nB,0\nB,0\nB,1\n");

        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", "small.csv", "--arm-column", "arm", "--control", "B", "--outcome", "visit");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Sample ratio", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("+16.67", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arm,visit\nA,1\nA,2\nB,0\n", "B", "more than two values")]
    [InlineData("arm,visit\nA,1\nA,1\nB,1\n", "B", "one value only")]
    [InlineData("arm,visit\nA,1\nA,0\nB,0\n", "C", "control arm 'C' does not occur")]
    [InlineData("arm,visit\nA,1\nA,0\n,0\n", "A", "line 4, column 1: the arm ('arm') is blank")]
    [InlineData("arm,visit\nA,1\nA,0\n", "A", "Only the control arm 'A' occurs")]
    [InlineData("arm,visit\n", "A", "no rows")]
    public void BadExperimentFilesFailWithOneSentence(string content, string control, string expected)
    {
        File.WriteAllText(Dir.Combine("bad.csv"), content);

        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", "bad.csv", "--arm-column", "arm", "--control", control, "--outcome", "visit");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownOutcomeColumnIsNamed()
    {
        File.WriteAllText(Dir.Combine("e.csv"), "arm,visit\nA,1\nB,0\n");

        var run = ChurnCli.Run(Dir.Path, "campaign", "readout", "--data", "e.csv", "--arm-column", "arm", "--control", "A", "--outcome", "bought");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no outcome column 'bought'", run.Stderr, StringComparison.Ordinal);
    }

    private static void AssertEffect(JsonElement effect, double points)
    {
        var difference = 100 * effect.GetProperty("difference").GetDouble();
        Assert.Equal(points, difference, 1e-2);
        Assert.InRange(100 * effect.GetProperty("ciLow").GetDouble(), points - 1, points - 0.3);
        Assert.InRange(100 * effect.GetProperty("ciHigh").GetDouble(), points + 0.3, points + 1);
    }
}
