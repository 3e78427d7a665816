namespace Churn.Core.Features;

/// <summary>The result of encoding one row: whether any value was a category the model never saw.</summary>
public readonly record struct EncodeOutcome(long UnseenMask, string? FirstError, int ErrorFeature)
{
    public bool HasError => FirstError is not null;
}
