namespace Churn.Core.Tests.Generation;

public class CustomerGeneratorTests
{
    private const int SampleRows = 20_000;

    private static readonly CustomerGenerator Generator = new();

    // Generated once for the whole class: every statistical test reads the same two samples.
    private static readonly Lazy<List<GeneratedCustomer>> Reference =
        new(() => Generator.Customers(new GeneratorOptions { Rows = SampleRows, Seed = 7 }).ToList());
    private static readonly Lazy<List<GeneratedCustomer>> FullyDrifted =
        new(() => Generator.Customers(new GeneratorOptions { Rows = SampleRows, Seed = 7, Drift = 1 }).ToList());

    private static int Column(string name) => CustomerGenerator.Header.ToList().IndexOf(name);

    private static string Csv(GeneratorOptions options)
    {
        var writer = new StringWriter();
        Generator.WriteCsv(options, writer);
        return writer.ToString();
    }

    private static double ChurnRate(IEnumerable<GeneratedCustomer> customers) =>
        customers.Average(c => c.Churned ? 1.0 : 0.0);

    [Fact]
    public void SameOptionsGiveIdenticalCsvText()
    {
        var options = new GeneratorOptions { Rows = 2_000, Seed = 123, Drift = 0.4 };

        Assert.Equal(Csv(options), Csv(options with { }));
    }

    [Fact]
    public void DifferentSeedsGiveDifferentCsvText()
    {
        Assert.NotEqual(Csv(new GeneratorOptions { Rows = 200, Seed = 1 }), Csv(new GeneratorOptions { Rows = 200, Seed = 2 }));
    }

    [Fact]
    public void FirstRowsOfSeed42AreExactlyTheRecordedOnes()
    {
        // Pinned bytes: a change here means every dataset, demo and test built on the generator changes too.
        const string expected = """
            customerId,tenureMonths,contract,monthlyCharges,totalCharges,internetService,paymentMethod,paperlessBilling,seniorCitizen,partner,dependents,techSupport,supportCalls,monthlyUsageGb,lastLoginDaysAgo,satisfactionScore,region,churned
            C000001,32,One year,58.63,1838.12,DSL,Electronic check,No,No,No,No,Yes,0,47.43,2,5,East,No
            C000002,20,Month-to-month,20.63,420.34,None,Bank transfer,No,Yes,Yes,No,No,0,0.00,3,5,West,Yes
            C000003,23,Month-to-month,93.64,2089.03,Fiber optic,Electronic check,Yes,No,Yes,Yes,Yes,1,145.92,0,3,South,No

            """;

        Assert.Equal(expected.ReplaceLineEndings("\n"), Csv(new GeneratorOptions { Rows = 3 }));
    }

    [Fact]
    public void CsvHasAHeaderLineThenOneLfTerminatedLinePerRow()
    {
        var csv = Csv(new GeneratorOptions { Rows = 50 });

        Assert.DoesNotContain('\r', csv);
        var lines = csv.Split('\n');
        Assert.Equal(52, lines.Length); // header, 50 rows, and the empty string after the final LF
        Assert.Equal(string.Join(',', CustomerGenerator.Header), lines[0]);
        Assert.Equal("", lines[^1]);
    }

    [Fact]
    public void HeaderIsTheIdThenTheSchemaFeaturesThenTheLabel()
    {
        var schema = CustomerGenerator.Schema;

        Assert.Empty(schema.Validate());
        Assert.Equal(16, schema.Features.Count);
        Assert.Equal("customerId", CustomerGenerator.Header[0]);
        Assert.Equal(schema.Features.Select(f => f.Name), CustomerGenerator.Header.Skip(1).Take(16));
        Assert.Equal("churned", CustomerGenerator.Header[^1]);
        Assert.True(schema.IsPositive("Yes"));
    }

    [Fact]
    public void BooleanAndCategoricalCellsUseOnlyTheirDocumentedValues()
    {
        var schema = CustomerGenerator.Schema;
        var seen = new Dictionary<string, HashSet<string>>();
        foreach (var row in Generator.Rows(new GeneratorOptions { Rows = 5_000 }))
        {
            Assert.Equal(CustomerGenerator.Header.Count, row.Length);
            for (var i = 0; i < schema.Features.Count; i++)
            {
                var feature = schema.Features[i];
                if (feature.Kind != FeatureKind.Numeric)
                {
                    (seen.TryGetValue(feature.Name, out var set) ? set : seen[feature.Name] = []).Add(row[i + 1]);
                }
            }
        }

        Assert.Equal(["Month-to-month", "One year", "Two year"], seen["contract"].Order());
        Assert.Equal(["DSL", "Fiber optic", "None"], seen["internetService"].Order());
        Assert.Equal(["Bank transfer", "Credit card", "Electronic check", "Mailed check"], seen["paymentMethod"].Order());
        Assert.Equal(["East", "North", "South", "West"], seen["region"].Order());
        foreach (var name in new[] { "paperlessBilling", "seniorCitizen", "partner", "dependents", "techSupport" })
        {
            Assert.Equal(["No", "Yes"], seen[name].Order());
        }
    }

    [Fact]
    public void RowsAreStreamedRatherThanGeneratedUpFront()
    {
        // Materialising int.MaxValue rows would exhaust memory long before the first one came back.
        var first = Generator.Rows(new GeneratorOptions { Rows = int.MaxValue }).Take(3).ToList();

        Assert.Equal(["C000001", "C000002", "C000003"], first.Select(r => r[0]));
    }

    [Fact]
    public void ChurnRateAtDriftZeroIsBetween18And32Percent()
    {
        var rate = ChurnRate(Reference.Value);

        Assert.InRange(rate, 0.18, 0.32);
    }

    [Fact]
    public void MonthToMonthCustomersChurnFarMoreThanTwoYearCustomers()
    {
        var monthToMonth = ChurnRate(Reference.Value.Where(c => c.Contract == ContractTerm.MonthToMonth));
        var twoYear = ChurnRate(Reference.Value.Where(c => c.Contract == ContractTerm.TwoYear));

        Assert.True(monthToMonth > twoYear + 0.20, $"month-to-month {monthToMonth:P1}, two year {twoYear:P1}");
        Assert.True(monthToMonth > 4 * twoYear, $"month-to-month {monthToMonth:P1}, two year {twoYear:P1}");
    }

    [Fact]
    public void FullDriftRaisesMeanMonthlyChargesAndSupportCallsAndShortensTenure()
    {
        var before = Reference.Value;
        var after = FullyDrifted.Value;

        Assert.True(after.Average(c => c.MonthlyCharges) > before.Average(c => c.MonthlyCharges) + 10);
        Assert.True(after.Average(c => c.SupportCalls) > before.Average(c => c.SupportCalls) * 1.5);
        Assert.True(after.Average(c => c.TenureMonths) < before.Average(c => c.TenureMonths) * 0.8);
    }

    [Fact]
    public void NewCategoriesAppearUnderDriftAndNeverWithout()
    {
        var payment = Column("paymentMethod");
        var region = Column("region");
        static double Share(List<GeneratedCustomer> customers, int column, string value) =>
            customers.Select(CustomerGenerator.ToCells).Average(r => r[column] == value ? 1.0 : 0.0);

        Assert.Equal(0, Share(Reference.Value, payment, "Digital wallet"));
        Assert.Equal(0, Share(Reference.Value, region, "Central"));
        Assert.InRange(Share(FullyDrifted.Value, payment, "Digital wallet"), 0.10, 0.20);
        Assert.InRange(Share(FullyDrifted.Value, region, "Central"), 0.08, 0.16);
    }

    [Fact]
    public void DriftMovesTheCategoryMixTowardsMonthToMonthAndElectronicCheck()
    {
        static double Share<T>(List<GeneratedCustomer> customers, Func<GeneratedCustomer, T> pick, T value) =>
            customers.Average(c => EqualityComparer<T>.Default.Equals(pick(c), value) ? 1.0 : 0.0);

        Assert.True(Share(FullyDrifted.Value, c => c.Contract, ContractTerm.MonthToMonth) > Share(Reference.Value, c => c.Contract, ContractTerm.MonthToMonth) + 0.10);
        Assert.True(Share(FullyDrifted.Value, c => c.PaymentMethod, PaymentMethod.ElectronicCheck) > Share(Reference.Value, c => c.PaymentMethod, PaymentMethod.ElectronicCheck) + 0.05);
    }

    [Fact]
    public void ReferenceMechanismRanksDriftedCustomersWorseThanReferenceOnes()
    {
        static double ReferenceAuc(List<GeneratedCustomer> customers) =>
            Auc.Of(customers.Select(ChurnMechanism.Reference.Probability).ToList(), customers.Select(c => c.Churned).ToList());
        var onReference = ReferenceAuc(Reference.Value);
        var onDrifted = ReferenceAuc(FullyDrifted.Value);
        var trueOnDrifted = Auc.Of(FullyDrifted.Value.Select(c => c.TrueProbability).ToList(), FullyDrifted.Value.Select(c => c.Churned).ToList());

        // The drift-0 formula is the best possible drift-0 model, so this is how a model trained
        // at drift 0 degrades: worse than on its own population and worse than the true drift-1 mechanism.
        Assert.True(onDrifted < onReference - 0.015, $"reference formula AUC {onReference:F3} at drift 0, {onDrifted:F3} at drift 1");
        Assert.True(onDrifted < trueOnDrifted - 0.04, $"reference formula AUC {onDrifted:F3}, true AUC {trueOnDrifted:F3} at drift 1");
    }

    [Fact]
    public void TrueProbabilityIsTheMechanismAtTheSameDrift()
    {
        var mechanism = ChurnMechanism.At(0.3);
        var customers = Generator.Customers(new GeneratorOptions { Rows = 500, Drift = 0.3 }).ToList();

        Assert.All(customers, c => Assert.Equal(mechanism.Probability(c), c.TrueProbability));
        Assert.Equal(
            Generator.Rows(new GeneratorOptions { Rows = 500, Drift = 0.3 }),
            Generator.RowsWithProbability(new GeneratorOptions { Rows = 500, Drift = 0.3 }).Select(r => r.Cells));
        Assert.Equal(
            customers.Select(c => c.TrueProbability),
            Generator.RowsWithProbability(new GeneratorOptions { Rows = 500, Drift = 0.3 }).Select(r => r.TrueProbability));
    }

    [Fact]
    public void MechanismAtTheEndsOfDriftIsExactlyReferenceAndDrifted()
    {
        Assert.Equal(ChurnMechanism.Reference, ChurnMechanism.At(0));
        Assert.Equal(ChurnMechanism.Drifted, ChurnMechanism.At(1));
        Assert.NotEqual(ChurnMechanism.Reference, ChurnMechanism.Drifted);
    }

    [Fact]
    public void TotalChargesIsBlankExactlyWhenTenureIsZero()
    {
        var tenure = Column("tenureMonths");
        var total = Column("totalCharges");
        var rows = Reference.Value.Select(CustomerGenerator.ToCells).ToList();

        Assert.Contains(rows, r => r[tenure] == "0");
        Assert.All(rows, r => Assert.Equal(r[tenure] == "0", r[total] == ""));
    }

    [Fact]
    public void AboutTwoPercentOfSatisfactionScoresAreBlankAndTheRestAreOneToFive()
    {
        var satisfaction = Column("satisfactionScore");
        var cells = Reference.Value.Select(c => CustomerGenerator.ToCells(c)[satisfaction]).ToList();

        Assert.InRange(cells.Average(s => s == "" ? 1.0 : 0.0), 0.01, 0.03);
        Assert.All(cells.Where(s => s != ""), s => Assert.Contains(s, new[] { "1", "2", "3", "4", "5" }));
    }

    [Fact]
    public void TotalChargesIsRoughlyTenureTimesMonthlyCharges()
    {
        var ratios = Reference.Value
            .Where(c => c.TotalCharges is not null)
            .Select(c => c.TotalCharges!.Value / (c.TenureMonths * c.MonthlyCharges))
            .ToList();

        Assert.InRange(ratios.Average(), 0.98, 1.02);
        Assert.All(ratios, r => Assert.InRange(r, 0.5, 1.5));
    }

    [Fact]
    public void NumbersUseTwoDecimalsWithAPointWhateverTheCurrentCulture()
    {
        var monthly = Column("monthlyCharges");
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // The project runs in invariant-globalization mode, so a comma-decimal culture is made by hand.
            var commaDecimal = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            commaDecimal.NumberFormat.NumberDecimalSeparator = ",";
            CultureInfo.CurrentCulture = commaDecimal;
            var cells = Generator.Rows(new GeneratorOptions { Rows = 100 }).Select(r => r[monthly]);

            Assert.All(cells, s => Assert.Matches(@"^\d+\.\d\d$", s));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}
