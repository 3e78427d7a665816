namespace Churn.Core.Tests;

/// <summary>Schemas the tests read their hand-written CSV files with.</summary>
internal static class TestSchemas
{
    /// <summary>
    /// An id column, a Yes/No <c>churn</c> label and one feature of each kind: <c>tenure</c> (numeric), <c>plan</c>
    /// (categorical) and <c>paperless</c> (yes/no).
    /// </summary>
    public static readonly DatasetSchema Small = new()
    {
        IdColumn = "id",
        LabelColumn = "churn",
        PositiveLabel = "Yes",
        Features = [new("tenure", FeatureKind.Numeric), new("plan", FeatureKind.Categorical), new("paperless", FeatureKind.Boolean)],
    };
}
