using System.Text.Json.Serialization;

namespace Churn.Server.Predictions;

/// <summary>The body of <c>POST /predict</c> (documentation type: the endpoint validates the raw JSON against the model's schema).</summary>
public sealed record PredictRequest(string? CustomerId, Dictionary<string, JsonElement> Features, double? CustomerValue);

/// <summary>The body of <c>POST /predict/batch</c>.</summary>
public sealed record BatchPredictRequest(IReadOnlyList<PredictRequest> Customers);

/// <summary>One feature's exact SHAP value in the prediction, in the response's <c>contributionUnit</c>.</summary>
public sealed record ReasonResponse(string Feature, string Value, double Contribution);

/// <summary>
/// One scored customer. <c>reasons</c> are the largest contributions by magnitude (every feature with
/// <c>?explain=all</c>); <c>baseValue</c> is the expected log-odds over the training rows, so that
/// <c>baseValue + Σ contribution</c> over every feature is this prediction's log-odds in <c>contributionUnit</c>
/// ("log-odds": calibrated; "model-log-odds": before an isotonic calibration). Both are null when the model cannot
/// explain the row.
/// </summary>
public sealed record PredictionResponse(
    Guid PredictionId,
    string? CustomerId,
    double ChurnProbability,
    bool WillChurn,
    double Threshold,
    string RiskTier,
    IReadOnlyList<ReasonResponse> Reasons,
    IReadOnlyList<string> UnseenCategories,
    double? ValueAtRisk,
    string ModelName,
    int ModelVersion,
    double? BaseValue = null,
    string? ContributionUnit = null)
{
    /// <summary>Fields of the request that were skipped because <c>api.unknown_fields</c> is <c>ignore</c>; absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? IgnoredFields { get; init; }

    /// <summary>When this customer is likely to churn, from the survival champion; absent when there is none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Survival.SurvivalResponse? Survival { get; init; }
}

/// <summary>The answer of <c>POST /predict/batch</c>; <see cref="IgnoredFields"/> lists skipped unknown fields (by path) when there were any.</summary>
public sealed record BatchPredictionResponse(
    IReadOnlyList<PredictionResponse> Predictions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? IgnoredFields = null);
