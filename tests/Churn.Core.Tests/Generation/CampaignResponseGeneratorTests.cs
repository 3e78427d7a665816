using Churn.Core.Campaigns;
using Xunit.Abstractions;

namespace Churn.Core.Tests.Generation;

public class CampaignResponseGeneratorTests(ITestOutputHelper output)
{
    [Fact]
    public void TheCustomersAreExactlyTheGeneratorsOwn()
    {
        var options = new GeneratorOptions { Rows = 500, Seed = 3 };

        var plain = new CustomerGenerator().Customers(options).ToList();
        var campaign = new CampaignResponseGenerator().Customers(options).ToList();

        Assert.Equal(plain, campaign.Select(c => c.Customer));
    }

    [Fact]
    public void AllFourResponseGroupsOccurWithTheirTrueEffects()
    {
        var customers = new CampaignResponseGenerator().Customers(new GeneratorOptions { Rows = 5000, Seed = 4 }).ToList();

        var shares = customers.GroupBy(c => c.Type).ToDictionary(g => g.Key, g => g.Count() / (double)customers.Count);
        output.WriteLine(string.Join(", ", shares.Select(kv => $"{kv.Key} {kv.Value:P1}")));
        Assert.All(Enum.GetValues<ResponseType>(), t => Assert.True(shares.GetValueOrDefault(t) > 0.03, $"{t}: {shares.GetValueOrDefault(t):P1}"));
        Assert.All(customers.Where(c => c.Type == ResponseType.SleepingDog), c => Assert.True(c.TrueUplift < 0));
        Assert.All(customers.Where(c => c.Type == ResponseType.Persuadable), c => Assert.True(c.TrueUplift > 0));
        Assert.All(customers.Where(c => c.Type is ResponseType.SureThing or ResponseType.LostCause), c => Assert.Equal(0, c.TrueUplift));
    }

    [Fact]
    public void AnUpliftModelTrainedOnGeneratedHistoryFindsPersuadablesAndSleepingDogs()
    {
        var history = TestFiles.Temp("");
        using (var writer = new StreamWriter(history))
        {
            new CampaignResponseGenerator().WriteHistoryCsv(new GeneratorOptions { Rows = 6000, Seed = 5 }, 0.5, writer);
        }
        var data = UpliftData.Load(history, CampaignResponseGenerator.ArmColumn, CampaignArms.Treated, CampaignArms.Holdout, "churned", decrease: true);

        var report = UpliftTrainer.CrossValidate(data, new UpliftOptions { Folds = 3, Resamples = 50 });
        var model = UpliftTrainer.Fit(data, report.Chosen, new UpliftOptions());
        var fresh = new CampaignResponseGenerator().Customers(new GeneratorOptions { Rows = 2000, Seed = 6 }).ToList();
        var freshFile = GeneratedCustomers.CsvFile(2000, seed: 6);
        var scores = model.Score(DatasetLoader.Load(freshFile, model.Schema, LabelRequirement.Optional));

        output.WriteLine($"{report.Chosen}: Qini {report.Score.Qini}, random {report.RandomOrder.Qini}");
        Assert.True(report.Score.Qini.Low > report.RandomOrder.Qini.High, $"{report.Score.Qini} against {report.RandomOrder.Qini}");
        // Every method, not only the one chosen, finds who contact moves.
        Assert.Equal(Enum.GetValues<UpliftMethod>(), report.Candidates.Select(c => c.Method));
        Assert.All(report.Candidates, c => Assert.True(c.Score.Qini.Low > report.RandomOrder.Qini.High, $"{c.Method}: {c.Score.Qini} against {report.RandomOrder.Qini}"));
        double Mean(ResponseType t) => fresh.Select((c, i) => (c, i)).Where(x => x.c.Type == t).Average(x => scores[x.i]);
        output.WriteLine(string.Join(", ", Enum.GetValues<ResponseType>().Select(t => $"{t} {Mean(t):0.000}")));
        Assert.True(Mean(ResponseType.SleepingDog) < 0);
        Assert.True(Mean(ResponseType.Persuadable) > 0.05);
    }
}
