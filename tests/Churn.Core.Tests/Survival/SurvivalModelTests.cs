using Churn.Core.Survival;

namespace Churn.Core.Tests.Survival;

/// <summary>Customers whose time to churn follows a known proportional hazard, so fitted curves can be checked against the truth.</summary>
internal static class KnownHazard
{
    public const double BaseRate = 0.06;
    public const double Slope = 0.8;
    public const double GroupEffect = 0.7;

    /// <summary>The files' header: id, the covariates, the duration and the event, as <see cref="Schema"/> reads them.</summary>
    public const string Header = "id,x,plan,monthly,months,churned\n";

    /// <summary>S(t | x, group) of the generating mechanism.</summary>
    public static double Survival(double x, string group, double t) => Math.Exp(-BaseRate * Math.Exp(Slope * x + (group == "b" ? GroupEffect : 0)) * t);

    /// <summary>
    /// A CSV of customers: covariates x (normal) and plan (a or b), a monthly value, the month they churned or were last seen
    /// (durations rounded up to whole months, observation ending at month 12 and random drop-out before that) and the event.
    /// </summary>
    public static string Csv(int rows, int seed, double dropOutRate = 0.08)
    {
        var random = new Random(seed);
        var csv = new StringBuilder(Header);
        for (var i = 0; i < rows; i++)
        {
            var x = Normal(random);
            var plan = random.NextDouble() < 0.5 ? "a" : "b";
            var rate = BaseRate * Math.Exp(Slope * x + (plan == "b" ? GroupEffect : 0));
            var churn = -Math.Log(1 - random.NextDouble()) / rate;
            var dropOut = Math.Min(12, -Math.Log(1 - random.NextDouble()) / dropOutRate);
            var churned = churn <= dropOut;
            var months = Math.Max(1, Math.Ceiling(churned ? churn : dropOut));
            csv.Append(CultureInfo.InvariantCulture, $"c{i},{x:0.0000},{plan},{20 + 10 * random.NextDouble():0.00},{months},{(churned ? 1 : 0)}\n");
        }
        return csv.ToString();
    }

    public static SurvivalSchema Schema(IReadOnlyList<double>? horizons = null) => new()
    {
        Data = new DatasetSchema
        {
            IdColumn = "id",
            LabelColumn = "churned",
            PositiveLabel = "1",
            Features = [new("x", FeatureKind.Numeric), new("plan", FeatureKind.Categorical), new("monthly", FeatureKind.Numeric)],
        },
        DurationColumn = "months",
        Horizons = horizons ?? SurvivalSchema.DefaultHorizons,
        ValueColumn = "monthly",
    };

    public static SurvivalData Load(int rows, int seed, double dropOutRate = 0.08) =>
        SurvivalData.Load(TestFiles.Temp(Csv(rows, seed, dropOutRate)), Schema());

    /// <summary>Loads hand-written <paramref name="rows"/> (CSV lines that follow <see cref="Header"/>) with <see cref="Schema"/>.</summary>
    public static SurvivalData LoadRows(string rows) => SurvivalData.Load(TestFiles.Temp(Header + rows), Schema());

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

public class SurvivalModelTests
{
    [Fact]
    public void CoxRecoversTheGeneratingCoefficientAndBaseline()
    {
        var data = KnownHazard.Load(3000, 11);

        var cox = CoxModel.Fit(data);

        // x is standard normal, so its coefficient on the standardised scale is close to the generating slope.
        Assert.InRange(cox.Coefficients[0], KnownHazard.Slope - 0.1, KnownHazard.Slope + 0.1);
        // A customer at x = 0 on plan a has S(6) = exp(−0.06 · 6).
        var curves = cox.Predict(data.Covariates, [6]);
        var reference = Enumerable.Range(0, data.RowCount)
            .Where(i => Math.Abs(data.Covariates.Columns[0].Numbers![i]) < 0.1 && data.Covariates.Columns[1].Categories![i] == "a")
            .Select(i => curves.Values[i][0]).Average();
        Assert.InRange(reference, KnownHazard.Survival(0, "a", 6) - 0.04, KnownHazard.Survival(0, "a", 6) + 0.04);
    }

    [Theory]
    [InlineData(SurvivalMethod.BoostedHazard)]
    [InlineData(SurvivalMethod.Cox)]
    public void AModelThatIgnoresCensoringIsFurtherFromTheTruth(SurvivalMethod method)
    {
        // About half the customers leave observation before churning.
        var train = KnownHazard.Load(2500, 21, dropOutRate: 0.12);
        var test = KnownHazard.Load(1000, 22, dropOutRate: 0.12);
        var options = new SurvivalOptions { Method = method };

        var proper = SurvivalTrainer.Fit(train, options);
        var censoredAsChurn = SurvivalTrainer.Fit(new SurvivalData(train.Schema, train.Covariates, train.Durations, [.. train.Events.Select(_ => true)]), options);
        var censoredDropped = SurvivalTrainer.Fit(train.Select([.. Enumerable.Range(0, train.RowCount).Where(i => train.Events[i])]), options);

        var properError = ErrorAgainstTruth(proper, test, 6);
        Assert.True(properError < 0.05, $"error {properError}");
        Assert.True(properError < ErrorAgainstTruth(censoredAsChurn, test, 6) / 2);
        Assert.True(properError < ErrorAgainstTruth(censoredDropped, test, 6) / 2);
        var brier = proper.Evaluate(test).IntegratedBrier;
        Assert.True(brier < censoredAsChurn.Evaluate(test).IntegratedBrier);
        Assert.True(brier < censoredDropped.Evaluate(test).IntegratedBrier);
    }

    [Fact]
    public void BoostedHazardRanksAtLeastAsWellAsTheTruthAllowsAndReportsEveryHorizon()
    {
        var train = KnownHazard.Load(2000, 31);
        var test = KnownHazard.Load(1000, 32);

        var model = SurvivalTrainer.Fit(train, new SurvivalOptions());
        var evaluation = model.Evaluate(test);

        var truthRisk = Enumerable.Range(0, test.RowCount).Select(i => 1 - KnownHazard.Survival(test.Covariates.Columns[0].Numbers![i], test.Covariates.Columns[1].Categories![i]!, 12)).ToArray();
        var truthC = SurvivalMetrics.ConcordanceIndex(test.Durations, test.Events, truthRisk);
        Assert.InRange(evaluation.CIndex, truthC - 0.03, 1);
        Assert.Equal([1.0, 3, 6, 12], evaluation.Calibration.Select(c => c.Horizon));
        foreach (var c in evaluation.Calibration)
        {
            Assert.InRange(c.Predicted - c.Observed, -0.05, 0.05);
        }
        Assert.InRange(evaluation.IntegratedBrier, 0, 0.25);
    }

    [Fact]
    public void ForecastGivesHorizonRisksCurveLifetimeAndRevenueAtRisk()
    {
        var data = KnownHazard.Load(1500, 41);
        var model = SurvivalTrainer.Fit(data, new SurvivalOptions { Method = SurvivalMethod.Cox });

        var forecast = model.Forecast(data.Covariates);

        Assert.Equal(data.RowCount, forecast.Count);
        for (var i = 0; i < 50; i++)
        {
            var f = forecast[i];
            Assert.Equal([1.0, 3, 6, 12], f.Horizons.Select(h => h.Horizon));
            Assert.True(f.Horizons.Zip(f.Horizons.Skip(1)).All(p => p.First.Probability <= p.Second.Probability));
            Assert.True(f.Curve.Zip(f.Curve.Skip(1)).All(p => p.First.Survival >= p.Second.Survival));
            Assert.Equal(12, f.Curve[^1].Time);
            Assert.InRange(f.ExpectedLifetime, 0, 12);
            var monthly = data.Covariates.Columns[2].Numbers![i];
            Assert.Equal(monthly * (12 - f.ExpectedLifetime), f.RevenueAtRisk!.Value, 1e-9);
        }
    }

    [Theory]
    [InlineData(SurvivalMethod.BoostedHazard)]
    [InlineData(SurvivalMethod.Cox)]
    public void APackageLoadsBackToTheSameCurvesAndCard(SurvivalMethod method)
    {
        var data = KnownHazard.Load(800, 51);
        var model = SurvivalTrainer.Train(data, new SurvivalOptions { Method = method }).Model;
        var path = Scratch.NewFilePath(".zip");

        model.Save(path);
        var loaded = SurvivalModel.Load(path);

        Assert.Equal(model.Card.Test.CIndex, loaded.Card.Test.CIndex);
        Assert.Equal(model.Grid, loaded.Grid);
        Assert.Equal(model.BoostedWeight, loaded.BoostedWeight);
        Assert.Equal("months", loaded.Schema.DurationColumn);
        var before = model.Predict(data.Covariates);
        var after = loaded.Predict(data.Covariates);
        for (var i = 0; i < data.RowCount; i++)
        {
            Assert.Equal(before.Values[i], after.Values[i]);
        }
    }

    [Fact]
    public void AClassifierPackageIsNotReadAsASurvivalModel()
    {
        var path = Scratch.NewFilePath(".zip");
        File.WriteAllText(path, "not a zip");

        var ex = Assert.Throws<Churn.Core.Models.ModelPackageException>(() => SurvivalModel.Load(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AForecastForACustomerWhoHasStayedIsConditionalOnTheirTimeSoFar()
    {
        var data = KnownHazard.Load(1500, 61);
        var model = SurvivalTrainer.Fit(data, new SurvivalOptions());
        var curves = model.Predict(data.Covariates);
        double[] elapsed = [.. Enumerable.Range(0, data.RowCount).Select(i => i % 3 == 0 ? double.NaN : (double)(i % 3))];

        var forecast = model.Forecast(data.Covariates, elapsed);

        for (var i = 0; i < 60; i++)
        {
            var t0 = double.IsNaN(elapsed[i]) ? 0 : elapsed[i];
            Assert.Equal(t0, forecast[i].Elapsed);
            foreach (var h in forecast[i].Horizons)
            {
                Assert.Equal(1 - curves.At(i, t0 + h.Horizon) / curves.At(i, t0), h.Probability, 1e-9);
                Assert.Equal(t0 + h.Horizon > model.Grid[^1], h.BeyondData);
            }
            Assert.Equal((curves.RestrictedMean(i, t0 + 12) - curves.RestrictedMean(i, t0)) / curves.At(i, t0), forecast[i].ExpectedLifetime, 1e-9);
            Assert.All(forecast[i].Curve, p => Assert.InRange(p.Time, 0, 12));
        }
    }

    // Mean absolute difference between predicted and true P(churn within the horizon) over the customers of a test set.
    private static double ErrorAgainstTruth(SurvivalModel model, SurvivalData test, double horizon)
    {
        var curves = model.Predict(test.Covariates);
        return Enumerable.Range(0, test.RowCount).Average(i =>
            Math.Abs(curves.At(i, horizon) - KnownHazard.Survival(test.Covariates.Columns[0].Numbers![i], test.Covariates.Columns[1].Categories![i]!, horizon)));
    }
}
