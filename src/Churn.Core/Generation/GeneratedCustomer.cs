namespace Churn.Core.Generation;

/// <summary>Contract term of a generated customer.</summary>
public enum ContractTerm
{
    /// <summary>"Month-to-month": no commitment, the riskiest term.</summary>
    MonthToMonth,
    /// <summary>"One year".</summary>
    OneYear,
    /// <summary>"Two year".</summary>
    TwoYear,
}

/// <summary>Internet service of a generated customer.</summary>
public enum InternetService
{
    /// <summary>"DSL".</summary>
    Dsl,
    /// <summary>"Fiber optic": the most expensive service and the one with the most churn.</summary>
    FiberOptic,
    /// <summary>"None": phone only.</summary>
    None,
}

/// <summary>Payment method of a generated customer.</summary>
public enum PaymentMethod
{
    /// <summary>"Electronic check".</summary>
    ElectronicCheck,
    /// <summary>"Mailed check".</summary>
    MailedCheck,
    /// <summary>"Bank transfer".</summary>
    BankTransfer,
    /// <summary>"Credit card".</summary>
    CreditCard,
    /// <summary>"Digital wallet": never generated at drift 0; appears for about 15 % × drift of customers.</summary>
    DigitalWallet,
}

/// <summary>Sales region of a generated customer; it has no effect on churn.</summary>
public enum SalesRegion
{
    /// <summary>"North".</summary>
    North,
    /// <summary>"South".</summary>
    South,
    /// <summary>"East".</summary>
    East,
    /// <summary>"West".</summary>
    West,
    /// <summary>"Central": never generated at drift 0; appears for about 12 % × drift of customers.</summary>
    Central,
}

/// <summary>
/// One generated customer with typed values and the truth behind its label: the probability the
/// churn mechanism gave it and the label drawn from that probability.
/// </summary>
public sealed record GeneratedCustomer
{
    /// <summary>Customer id, e.g. "C000001".</summary>
    public required string CustomerId { get; init; }

    /// <summary>Whole months as a customer; 0 for customers who joined this month.</summary>
    public required int TenureMonths { get; init; }

    /// <summary>Contract term.</summary>
    public required ContractTerm Contract { get; init; }

    /// <summary>Monthly charge in currency units, rounded to cents.</summary>
    public required double MonthlyCharges { get; init; }

    /// <summary>Total billed so far, rounded to cents; null (a blank cell) when tenure is 0.</summary>
    public required double? TotalCharges { get; init; }

    /// <summary>Internet service.</summary>
    public required InternetService InternetService { get; init; }

    /// <summary>Payment method.</summary>
    public required PaymentMethod PaymentMethod { get; init; }

    /// <summary>Paperless billing.</summary>
    public required bool PaperlessBilling { get; init; }

    /// <summary>Senior citizen.</summary>
    public required bool SeniorCitizen { get; init; }

    /// <summary>Has a partner.</summary>
    public required bool Partner { get; init; }

    /// <summary>Has dependents.</summary>
    public required bool Dependents { get; init; }

    /// <summary>Subscribes to tech support (never without internet service).</summary>
    public required bool TechSupport { get; init; }

    /// <summary>Support calls in the last period.</summary>
    public required int SupportCalls { get; init; }

    /// <summary>Data used per month in GB, rounded to cents of a GB; 0 without internet service.</summary>
    public required double MonthlyUsageGb { get; init; }

    /// <summary>Days since the customer last logged in.</summary>
    public required int LastLoginDaysAgo { get; init; }

    /// <summary>
    /// The customer's true satisfaction, 1 to 5. The churn mechanism always uses it, even when the
    /// survey answer is missing, exactly as a real customer's mood acts whether or not it was asked.
    /// </summary>
    public required int SatisfactionScore { get; init; }

    /// <summary>Whether the satisfaction survey answer is missing (the cell is blank).</summary>
    public required bool SatisfactionMissing { get; init; }

    /// <summary>Sales region.</summary>
    public required SalesRegion Region { get; init; }

    /// <summary>The probability of churn the mechanism gave this customer.</summary>
    public required double TrueProbability { get; init; }

    /// <summary>The label drawn from <see cref="TrueProbability"/>.</summary>
    public required bool Churned { get; init; }
}
