namespace Churn.Core.Evaluation;

/// <summary>
/// The economics of a retention campaign, used to pick the threshold that maximises expected profit.
/// The properties are get-only so <c>with</c> cannot bypass the checks in the constructor.
/// </summary>
/// <param name="RetainedCustomerValue">What keeping a would-be churner is worth (e.g. remaining lifetime margin); at least 0.</param>
/// <param name="ContactCost">Cost of one retention contact (call, discount); at least 0.</param>
/// <param name="ContactSuccessRate">Share of contacted churners who then stay, in [0, 1].</param>
public sealed record BusinessValue(double RetainedCustomerValue, double ContactCost, double ContactSuccessRate)
{
    /// <summary>What keeping a would-be churner is worth; finite and at least 0.</summary>
    public double RetainedCustomerValue { get; } = NonNegative(RetainedCustomerValue, nameof(RetainedCustomerValue));

    /// <summary>Cost of one retention contact; finite and at least 0.</summary>
    public double ContactCost { get; } = NonNegative(ContactCost, nameof(ContactCost));

    /// <summary>Share of contacted churners who then stay, in [0, 1].</summary>
    public double ContactSuccessRate { get; } = ContactSuccessRate is >= 0.0 and <= 1.0
        ? ContactSuccessRate
        : throw new ArgumentOutOfRangeException(nameof(ContactSuccessRate), ContactSuccessRate, "The contact success rate must lie in [0, 1].");

    /// <summary>Expected gain from contacting one customer who would have churned.</summary>
    public double GainPerContactedChurner => ContactSuccessRate * RetainedCustomerValue;

    private static double NonNegative(double value, string name) => double.IsFinite(value) && value >= 0.0
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number at least 0.");
}
