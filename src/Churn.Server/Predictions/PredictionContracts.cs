using System.Text.Json;

namespace Churn.Server.Predictions;

/// <summary>The body of <c>POST /predict</c> (documentation type: the endpoint validates the raw JSON against the model's schema).</summary>
public sealed record PredictRequest(string? CustomerId, Dictionary<string, JsonElement> Features, double? CustomerValue);

/// <summary>The body of <c>POST /predict/batch</c>.</summary>
public sealed record BatchPredictRequest(IReadOnlyList<PredictRequest> Customers);

public sealed record ReasonResponse(string Feature, string Value, double Contribution);

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
    int ModelVersion);

public sealed record BatchPredictionResponse(IReadOnlyList<PredictionResponse> Predictions);
