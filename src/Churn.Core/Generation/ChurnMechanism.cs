namespace Churn.Core.Generation;

/// <summary>
/// The known churn mechanism of <see cref="CustomerGenerator"/>: a logistic model,
/// P(churn) = 1 / (1 + e^−logit), logit = <see cref="Intercept"/> + Σ coefficient × value, where
/// indicator terms count 1 when the customer has the property and numeric terms multiply the raw
/// value. One-year contract, DSL / no internet, payment methods other than those named, and region
/// are the reference levels (coefficient 0). Tests and documentation cite these numbers; change them
/// only together with the expectations that depend on them.
/// </summary>
public sealed record ChurnMechanism
{
    /// <summary>Intercept of the logit.</summary>
    public required double Intercept { get; init; }

    /// <summary>Month-to-month contract (no commitment: easy to leave).</summary>
    public required double MonthToMonth { get; init; }

    /// <summary>Two-year contract (an early-exit fee keeps customers).</summary>
    public required double TwoYear { get; init; }

    /// <summary>Fiber optic internet (pricier, and competitors target it).</summary>
    public required double FiberOptic { get; init; }

    /// <summary>Electronic check payment (no automatic payment to cancel).</summary>
    public required double ElectronicCheck { get; init; }

    /// <summary>Digital wallet payment (only generated under drift).</summary>
    public required double DigitalWallet { get; init; }

    /// <summary>Per month of tenure (negative: loyalty grows with time).</summary>
    public required double PerTenureMonth { get; init; }

    /// <summary>Per currency unit of monthly charge (price sensitivity).</summary>
    public required double PerMonthlyCharge { get; init; }

    /// <summary>Per support call (each call is a sign of trouble).</summary>
    public required double PerSupportCall { get; init; }

    /// <summary>Per point of true satisfaction, 1 to 5 (negative: happy customers stay).</summary>
    public required double PerSatisfactionPoint { get; init; }

    /// <summary>Per day since the last login (disengagement).</summary>
    public required double PerDaySinceLogin { get; init; }

    /// <summary>Tech support subscription.</summary>
    public required double TechSupport { get; init; }

    /// <summary>Has a partner.</summary>
    public required double Partner { get; init; }

    /// <summary>Has dependents.</summary>
    public required double Dependents { get; init; }

    /// <summary>Senior citizen.</summary>
    public required double SeniorCitizen { get; init; }

    /// <summary>Paperless billing.</summary>
    public required double PaperlessBilling { get; init; }

    /// <summary>
    /// The mechanism at drift 0. With the drift-0 population it gives an overall churn rate of
    /// about 24 %, and month-to-month customers churn several times as often as two-year ones.
    /// </summary>
    public static readonly ChurnMechanism Reference = new()
    {
        Intercept = -1.05,
        MonthToMonth = 0.80,
        TwoYear = -0.90,
        FiberOptic = 0.60,
        ElectronicCheck = 0.45,
        DigitalWallet = 0.0,
        PerTenureMonth = -0.035,
        PerMonthlyCharge = 0.010,
        PerSupportCall = 0.30,
        PerSatisfactionPoint = -0.45,
        PerDaySinceLogin = 0.030,
        TechSupport = -0.50,
        Partner = -0.25,
        Dependents = -0.30,
        SeniorCitizen = 0.30,
        PaperlessBilling = 0.20,
    };

    /// <summary>
    /// The mechanism at drift 1: support calls matter far more, satisfaction stops protecting (its
    /// sign even flips slightly, as a competitor's offers poach happy customers too), contracts and
    /// tenure hold customers much less, customers are more price sensitive, and digital-wallet payers
    /// churn more. With the drift-1 population it gives a churn rate of about 40 %, and
    /// <see cref="Reference"/> ranks these customers clearly worse than this mechanism does.
    /// </summary>
    public static readonly ChurnMechanism Drifted = Reference with
    {
        Intercept = -6.3,
        MonthToMonth = 0.30,
        TwoYear = -0.30,
        DigitalWallet = 0.60,
        PerTenureMonth = -0.005,
        PerMonthlyCharge = 0.030,
        PerSupportCall = 0.80,
        PerSatisfactionPoint = 0.05,
    };

    /// <summary>
    /// Refuses a drift outside [0, 1]; the negated comparison also refuses NaN, which would otherwise blend silently into
    /// every probability. Returns <paramref name="drift"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The drift is not a number from 0 to 1.</exception>
    internal static double RequireDrift(double drift, string paramName) =>
        drift is >= 0 and <= 1 ? drift : throw new ArgumentOutOfRangeException(paramName, drift, "Drift must be between 0 and 1.");

    /// <summary>The mechanism at <paramref name="drift"/>: each coefficient blended linearly between <see cref="Reference"/> and <see cref="Drifted"/>.</summary>
    public static ChurnMechanism At(double drift)
    {
        RequireDrift(drift, nameof(drift));
        var r = Reference;
        var d = Drifted;
        // Weighted this way rather than a + (b - a) × drift so the ends reproduce both mechanisms exactly.
        double Blend(double a, double b) => (a * (1 - drift)) + (b * drift);
        return new()
        {
            Intercept = Blend(r.Intercept, d.Intercept),
            MonthToMonth = Blend(r.MonthToMonth, d.MonthToMonth),
            TwoYear = Blend(r.TwoYear, d.TwoYear),
            FiberOptic = Blend(r.FiberOptic, d.FiberOptic),
            ElectronicCheck = Blend(r.ElectronicCheck, d.ElectronicCheck),
            DigitalWallet = Blend(r.DigitalWallet, d.DigitalWallet),
            PerTenureMonth = Blend(r.PerTenureMonth, d.PerTenureMonth),
            PerMonthlyCharge = Blend(r.PerMonthlyCharge, d.PerMonthlyCharge),
            PerSupportCall = Blend(r.PerSupportCall, d.PerSupportCall),
            PerSatisfactionPoint = Blend(r.PerSatisfactionPoint, d.PerSatisfactionPoint),
            PerDaySinceLogin = Blend(r.PerDaySinceLogin, d.PerDaySinceLogin),
            TechSupport = Blend(r.TechSupport, d.TechSupport),
            Partner = Blend(r.Partner, d.Partner),
            Dependents = Blend(r.Dependents, d.Dependents),
            SeniorCitizen = Blend(r.SeniorCitizen, d.SeniorCitizen),
            PaperlessBilling = Blend(r.PaperlessBilling, d.PaperlessBilling),
        };
    }

    /// <summary>The logit of churn for a customer (uses the true satisfaction, even when its cell is blank).</summary>
    public double Logit(GeneratedCustomer customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        return Logit(
            customer.Contract, customer.InternetService, customer.PaymentMethod, customer.TenureMonths,
            customer.MonthlyCharges, customer.SupportCalls, customer.SatisfactionScore, customer.LastLoginDaysAgo,
            customer.TechSupport, customer.Partner, customer.Dependents, customer.SeniorCitizen, customer.PaperlessBilling);
    }

    /// <summary>The probability of churn for a customer under this mechanism.</summary>
    public double Probability(GeneratedCustomer customer) => Sigmoid(Logit(customer));

    // The generator scores customers before the record exists, so the arithmetic lives on raw values.
    internal double Logit(
        ContractTerm contract, InternetService internet, PaymentMethod payment, int tenureMonths,
        double monthlyCharges, int supportCalls, int satisfaction, int lastLoginDaysAgo,
        bool techSupport, bool partner, bool dependents, bool seniorCitizen, bool paperlessBilling)
    {
        var logit = Intercept
            + (PerTenureMonth * tenureMonths)
            + (PerMonthlyCharge * monthlyCharges)
            + (PerSupportCall * supportCalls)
            + (PerSatisfactionPoint * satisfaction)
            + (PerDaySinceLogin * lastLoginDaysAgo);
        logit += contract switch
        {
            ContractTerm.MonthToMonth => MonthToMonth,
            ContractTerm.TwoYear => TwoYear,
            _ => 0,
        };
        logit += internet == InternetService.FiberOptic ? FiberOptic : 0;
        logit += payment switch
        {
            PaymentMethod.ElectronicCheck => ElectronicCheck,
            PaymentMethod.DigitalWallet => DigitalWallet,
            _ => 0,
        };
        logit += techSupport ? TechSupport : 0;
        logit += partner ? Partner : 0;
        logit += dependents ? Dependents : 0;
        logit += seniorCitizen ? SeniorCitizen : 0;
        logit += paperlessBilling ? PaperlessBilling : 0;
        return logit;
    }

    internal static double Sigmoid(double logit) => 1.0 / (1.0 + Math.Exp(-logit));
}
