using Churn.Core.Models;
using Churn.Core.Survival;
using Churn.Data.Tracking;

namespace Churn.Data.Survival;

/// <summary>How survival models go into the registry: their package, their card and the metrics their run records.</summary>
public static class SurvivalRegistration
{
    /// <summary>The packaging <see cref="RecordedTraining"/> uses for a survival model.</summary>
    public static ModelPackaging<SurvivalModel> Packaging { get; } = new(
        (model, path) => model.Save(path),
        model => JsonSerializer.Serialize(model.Card, JsonDefaults.Options),
        model => Metrics(model.Card));

    /// <summary>The run metrics of a survival card: the held-out C-index and integrated Brier score, and the cross-validated C-index when there is one.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(SurvivalCard card)
    {
        var metrics = new Dictionary<string, double> { ["cIndex"] = card.Test.CIndex, ["integratedBrier"] = card.Test.IntegratedBrier };
        if (card.CrossValidation is { } cv)
        {
            metrics["cvCIndexMean"] = cv.CIndex.Mean;
            metrics["cvCIndexSd"] = cv.CIndex.Sd;
        }
        return metrics;
    }
}
