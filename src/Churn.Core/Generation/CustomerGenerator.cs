namespace Churn.Core.Generation;

/// <summary>
/// Generates realistic, telco-like customers with a known churn mechanism (<see cref="ChurnMechanism"/>)
/// and a drift knob (<see cref="GeneratorOptions.Drift"/>). It is the default data on a fresh machine
/// and drives demos and tests.
/// </summary>
/// <remarks>
/// <para>
/// Output is a pure function of the options: one seeded <see cref="Random"/> is the only source of
/// randomness and numbers are written with the invariant culture, so the same options give the
/// same bytes on every machine. (The only platform-dependent step is the last bit of the C runtime's
/// log/exp/sin/cos, which could change a cell only if a value fell within about 1e-13 of a rounding
/// boundary or a label draw.)
/// </para>
/// <para>
/// Drift d ∈ [0, 1] moves the population and the mechanism linearly: monthly charges rise by 12·d,
/// tenures shrink by up to 30 %, support calls rise by up to 80 %, usage by up to 30 %; more customers
/// are month-to-month, on fiber and pay by electronic check; "Digital wallet" payment (about 0.15·d of
/// customers) and the "Central" region (about 0.12·d) appear, though neither exists at d = 0; and the
/// coefficients move from <see cref="ChurnMechanism.Reference"/> to <see cref="ChurnMechanism.Drifted"/>.
/// </para>
/// <para>Rows are generated lazily, so any number can be streamed in constant memory.</para>
/// </remarks>
public sealed class CustomerGenerator
{
    private const string Yes = "Yes";
    private const string No = "No";

    private static readonly string[] ContractLabels = ["Month-to-month", "One year", "Two year"];
    private static readonly string[] InternetLabels = ["DSL", "Fiber optic", "None"];
    private static readonly string[] PaymentLabels = ["Electronic check", "Mailed check", "Bank transfer", "Credit card", "Digital wallet"];
    private static readonly string[] RegionLabels = ["North", "South", "East", "West", "Central"];

    /// <summary>The schema of the generated data: id "customerId", label "churned" (positive "Yes"), 16 features.</summary>
    public static DatasetSchema Schema { get; } = new()
    {
        IdColumn = "customerId",
        LabelColumn = "churned",
        PositiveLabel = Yes,
        Features =
        [
            new("tenureMonths", FeatureKind.Numeric),
            new("contract", FeatureKind.Categorical),
            new("monthlyCharges", FeatureKind.Numeric),
            new("totalCharges", FeatureKind.Numeric),
            new("internetService", FeatureKind.Categorical),
            new("paymentMethod", FeatureKind.Categorical),
            new("paperlessBilling", FeatureKind.Boolean),
            new("seniorCitizen", FeatureKind.Boolean),
            new("partner", FeatureKind.Boolean),
            new("dependents", FeatureKind.Boolean),
            new("techSupport", FeatureKind.Boolean),
            new("supportCalls", FeatureKind.Numeric),
            new("monthlyUsageGb", FeatureKind.Numeric),
            new("lastLoginDaysAgo", FeatureKind.Numeric),
            new("satisfactionScore", FeatureKind.Numeric),
            new("region", FeatureKind.Categorical),
        ],
    };

    /// <summary>Column names in output order: the id, the features in schema order, then the label.</summary>
    public static IReadOnlyList<string> Header { get; } =
        [Schema.IdColumn!, .. Schema.Features.Select(f => f.Name), Schema.LabelColumn];

    /// <summary>The generated customers as typed records, with their true churn probability.</summary>
    public IEnumerable<GeneratedCustomer> Customers(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Generate(options);
    }

    /// <summary>The generated rows as cells in <see cref="Header"/> order (the header itself is not included).</summary>
    public IEnumerable<string[]> Rows(GeneratorOptions options) => Customers(options).Select(ToCells);

    /// <summary>The generated rows with the probability of churn the mechanism gave each one, e.g. to compare a model's AUC with the Bayes AUC.</summary>
    public IEnumerable<(string[] Cells, double TrueProbability)> RowsWithProbability(GeneratorOptions options) =>
        Customers(options).Select(c => (ToCells(c), c.TrueProbability));

    /// <summary>Writes a header line and the generated rows as CSV (RFC 4180 quoting, LF line endings). The writer is neither flushed nor closed.</summary>
    public void WriteCsv(GeneratorOptions options, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(writer);
        CsvText.WriteRow(writer, Header);
        foreach (var customer in Generate(options))
        {
            CsvText.WriteRow(writer, ToCells(customer));
        }
    }

    /// <summary>A customer's cells in <see cref="Header"/> order, as they appear in the CSV.</summary>
    public static string[] ToCells(GeneratedCustomer customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        return
        [
            customer.CustomerId,
            Integer(customer.TenureMonths),
            ContractLabels[(int)customer.Contract],
            Decimal(customer.MonthlyCharges),
            customer.TotalCharges is { } total ? Decimal(total) : "",
            InternetLabels[(int)customer.InternetService],
            PaymentLabels[(int)customer.PaymentMethod],
            YesNo(customer.PaperlessBilling),
            YesNo(customer.SeniorCitizen),
            YesNo(customer.Partner),
            YesNo(customer.Dependents),
            YesNo(customer.TechSupport),
            Integer(customer.SupportCalls),
            Decimal(customer.MonthlyUsageGb),
            Integer(customer.LastLoginDaysAgo),
            customer.SatisfactionMissing ? "" : Integer(customer.SatisfactionScore),
            RegionLabels[(int)customer.Region],
            YesNo(customer.Churned),
        ];
    }

    private static IEnumerable<GeneratedCustomer> Generate(GeneratorOptions options)
    {
        var sampler = new SeededSampler(options.Seed);
        var population = new CustomerPopulation(options.Drift);
        for (var i = 1; i <= options.Rows; i++)
        {
            yield return population.Draw(sampler, i);
        }
    }

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Decimal(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string YesNo(bool value) => value ? Yes : No;
}
