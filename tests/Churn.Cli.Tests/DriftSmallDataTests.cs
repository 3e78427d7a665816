using Churn.Data.Settings;

namespace Churn.Cli.Tests;

/// <summary>churn drift and churn quality on files with an empty column or a handful of rows.</summary>
[Collection(TrainedCliCollection.Name)]
public class DriftSmallDataTests(TrainedCliFixture fixture)
{
    [Fact]
    public void DriftReportsAColumnWithNoValuesAsNoValuesInJsonTableAndHtml()
    {
        var current = WriteWindow(fixture.Dir, rows: 400, blank: "monthlyCharges");

        var run = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", current, "--html", "empty.html", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var charges = Feature(run.Stdout, "monthlyCharges");
        Assert.Equal("no values", charges.GetProperty("verdict").GetString());
        Assert.False(charges.GetProperty("drifted").GetBoolean());
        Assert.Equal(0, charges.GetProperty("currentCount").GetInt32());
        Assert.Equal(1, charges.GetProperty("currentMissingShare").GetDouble());
        Assert.Equal(JsonValueKind.Null, charges.GetProperty("statistic").ValueKind);
        Assert.Equal("stable", Feature(run.Stdout, "region").GetProperty("verdict").GetString());

        var table = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", current);
        var row = table.Stdout.Split('\n').Single(l => l.Contains("monthlyCharg", StringComparison.Ordinal) && l.Contains('│', StringComparison.Ordinal));
        Assert.Contains("no values", row, StringComparison.Ordinal);
        Assert.DoesNotContain("stable", row, StringComparison.Ordinal);
        Assert.Contains("no verdict for 1", table.Stdout, StringComparison.Ordinal);

        var html = File.ReadAllText(Path.Combine(fixture.Dir, "empty.html"));
        Assert.Contains("No verdict for monthlyCharges: no values in 400 rows: missing 100 % (reference 0 %)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void DriftOnAnEightRowWindowGivesNoVerdictAndSaysHowManyValuesAreNeeded()
    {
        var current = WriteWindow(fixture.Dir, rows: 8, source: "drifted.csv");

        var table = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", current);
        var json = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", current, "--json");

        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("No drift verdict for any of the", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("8 values: at least 30 are needed for a KS verdict", Unwrapped(table.Stdout), StringComparison.Ordinal);
        Assert.DoesNotContain("[red]", table.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.All(doc.RootElement.GetProperty("features").EnumerateArray(), f => Assert.Equal("too few values", f.GetProperty("verdict").GetString()));
        Assert.False(doc.RootElement.GetProperty("datasetDrift").GetBoolean());
        Assert.Equal("too few values", doc.RootElement.GetProperty("score").GetProperty("verdict").GetString());
    }

    [Fact]
    public void TheMinimumsAndTheThresholdAreFlagsThatChangeTheVerdict()
    {
        var current = WriteWindow(fixture.Dir, rows: 8, source: "drifted.csv");

        var lowered = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", current, "--min-values-ks", "5", "--json");
        var strict = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", "drifted.csv", "--drift-threshold", "1", "--json");
        var loose = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", "drifted.csv", "--drift-threshold", "0", "--json");
        var invalid = ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", "drifted.csv", "--drift-threshold", "2");

        Assert.True(lowered.ExitCode == 0, lowered.Stderr);
        Assert.NotEqual("too few values", Feature(lowered.Stdout, "tenureMonths").GetProperty("verdict").GetString());
        Assert.Equal("too few values", Feature(lowered.Stdout, "contract").GetProperty("verdict").GetString());
        Assert.False(Root(strict.Stdout).GetProperty("datasetDrift").GetBoolean());
        Assert.True(Root(loose.Stdout).GetProperty("datasetDrift").GetBoolean());
        Assert.Equal(0.35, Root(ChurnCli.Run(fixture.Dir, "drift", "--model", "model/model.zip", "--current", "drifted.csv", "--json").Stdout).GetProperty("datasetDriftShare").GetDouble());
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("drift threshold must be a share from 0 to 1", invalid.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithADataDirectoryTheStoredSettingsApplyAndAFlagStillWins()
    {
        var data = Path.Combine(fixture.Dir, $"store-{Guid.NewGuid():N}");
        using (var store = await ChurnStore.OpenAsync(data))
        {
            await using var db = store.CreateDbContext();
            db.Settings.Add(new Setting { Key = "model.drift_threshold", ValueJson = "0.99", UpdatedAt = DateTimeOffset.UtcNow, UpdatedBy = "test" });
            db.Settings.Add(new Setting { Key = "model.drift_min_values_chi2", ValueJson = "600", UpdatedAt = DateTimeOffset.UtcNow, UpdatedBy = "test" });
            await db.SaveChangesAsync();
        }
        string[] drift = ["drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", "drifted.csv", "--json"];

        var withoutStore = Root(ChurnCli.Run(fixture.Dir, drift).Stdout);
        var stored = Root(ChurnCli.Run(fixture.Dir, [.. drift, "--data-dir", data]).Stdout);
        var flagged = Root(ChurnCli.Run(fixture.Dir, [.. drift, "--data-dir", data, "--drift-threshold", "0.1", "--min-values-chi2", "30"]).Stdout);

        Assert.Equal(0.35, withoutStore.GetProperty("datasetDriftShare").GetDouble());
        Assert.Equal(0.99, stored.GetProperty("datasetDriftShare").GetDouble());
        Assert.False(stored.GetProperty("datasetDrift").GetBoolean());
        // 500 current rows are fewer than the stored 600 for categorical features.
        Assert.Equal("too few values", stored.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "contract").GetProperty("verdict").GetString());
        Assert.Equal(0.1, flagged.GetProperty("datasetDriftShare").GetDouble());
        Assert.True(flagged.GetProperty("datasetDrift").GetBoolean());
        Assert.NotEqual("too few values", flagged.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "contract").GetProperty("verdict").GetString());
    }

    [Fact]
    public void QualityExitsTwoAndNamesAColumnWithNoValues()
    {
        var current = WriteWindow(fixture.Dir, rows: 300, blank: "satisfactionScore");

        var json = ChurnCli.Run(fixture.Dir, "quality", "--schema", "schema.json", "--data", current, "--json");
        var table = ChurnCli.Run(fixture.Dir, "quality", "--schema", "schema.json", "--data", current);
        var clean = ChurnCli.Run(fixture.Dir, "quality", "--schema", "schema.json", "--data", "customers.csv", "--json");

        Assert.Equal(2, json.ExitCode);
        Assert.Contains("satisfactionScore has no values in any of the 300 rows", json.Stderr, StringComparison.Ordinal);
        Assert.Equal(["satisfactionScore"], Root(json.Stdout).GetProperty("emptyColumns").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, table.ExitCode);
        Assert.Contains("satisfactionScore has no values", table.Stderr, StringComparison.Ordinal);
        Assert.Contains("(no", table.Stdout, StringComparison.Ordinal);
        Assert.True(clean.ExitCode == 0, clean.Stderr);
        Assert.Empty(Root(clean.Stdout).GetProperty("emptyColumns").EnumerateArray());
    }

    [Fact]
    public void DriftJudgesTheFilesJointlyWithADomainClassifierThatSeesAChangeNoPerFeatureTestSees()
    {
        // Generated customers with total charges shuffled among them: every column keeps its values, not their relation.
        var lines = GeneratedCustomers.Csv(1000, seed: 77).TrimEnd('\n').Split('\n');
        var column = Array.IndexOf(lines[0].Split(','), "totalCharges");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        var totals = rows.Select(r => r[column]).ToArray();
        new Random(77).Shuffle(totals);
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i][column] = totals[i];
        }
        File.WriteAllLines(Path.Combine(fixture.Dir, "joint.csv"), [lines[0], .. rows.Select(r => string.Join(',', r))]);

        var run = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", "joint.csv", "--json");
        var table = ChurnCli.Run(fixture.Dir, "drift", "--reference", "customers.csv", "--schema", "schema.json", "--current", "joint.csv");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var domain = Root(run.Stdout).GetProperty("domain");
        Assert.True(domain.GetProperty("drifted").GetBoolean(), domain.ToString());
        Assert.Contains("totalCharges", domain.GetProperty("separating").EnumerateArray().Take(2).Select(f => f.GetProperty("feature").GetString()));
        Assert.Equal("stable", Feature(run.Stdout, "totalCharges").GetProperty("verdict").GetString());
        Assert.Contains("Domain classifier: out-of-fold AUC", Unwrapped(table.Stdout), StringComparison.Ordinal);
    }

    /// <summary>The first <paramref name="rows"/> rows of a generated file, with one column blanked in every row.</summary>
    internal static string WriteWindow(string dir, int rows, string? blank = null, string source = "customers.csv")
    {
        var lines = File.ReadLines(Path.Combine(dir, source)).Take(rows + 1).ToList();
        var column = blank is null ? -1 : Array.IndexOf(lines[0].Split(','), blank);
        var name = $"window-{rows}-{blank ?? "full"}-{Guid.NewGuid():N}.csv";
        File.WriteAllLines(Path.Combine(dir, name), lines.Select((line, i) =>
        {
            if (i == 0 || column < 0)
            {
                return line;
            }
            var cells = line.Split(',');
            cells[column] = "";
            return string.Join(',', cells);
        }));
        return name;
    }

    private static JsonElement Root(string stdout) => JsonDocument.Parse(stdout).RootElement.Clone();

    private static JsonElement Feature(string stdout, string name) =>
        Root(stdout).GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);

    /// <summary>Console text with the line breaks the 80-column layout inserts joined up.</summary>
    private static string Unwrapped(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries));
}
