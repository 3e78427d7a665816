using Churn.Core.Schema;
using Churn.Core.Survival;
using Churn.Data.Predictions;

namespace Churn.Data.Survival;

/// <summary>How well a survival model ranked customers whose outcome has been reported since they were scored.</summary>
/// <param name="Labelled">Labelled predictions evaluated.</param>
/// <param name="Churned">How many of them churned (the rest are censored at their last report).</param>
/// <param name="Skipped">Labelled predictions left out because their outcome is dated before the prediction.</param>
/// <param name="CIndex">Harrell's C-index, or null when no pair of customers is comparable (no churn, or every churn at the same time).</param>
public sealed record RealisedSurvival(int Labelled, int Churned, int Skipped, double? CIndex)
{
    /// <summary>
    /// Scores the logged inputs of <paramref name="labelled"/> with <paramref name="model"/> and compares its ranking with
    /// what happened. The risk is minus the expected lifetime over the last horizon, conditional on the time so far the
    /// request carried (its duration column), as served. The observed duration runs from the prediction to the outcome's
    /// date (<see cref="LabelledPrediction.ObservedAt"/>): the churn date of a customer who churned, the last report of one
    /// who stayed (censored). Only the order of durations matters to the C-index, so their unit does not.
    /// </summary>
    public static RealisedSurvival Evaluate(SurvivalModel model, IReadOnlyList<LabelledPrediction> labelled)
    {
        var usable = labelled.Where(l => l.ObservedAt >= l.Time).ToList();
        var skipped = labelled.Count - usable.Count;
        if (usable.Count == 0)
        {
            return new RealisedSurvival(0, 0, skipped, null);
        }
        var rows = usable.Select(l => (l.CustomerId, l.InputsJson)).ToList();
        var covariates = LoggedInputs.ToDataset(model.Schema.Data, rows);
        // The duration column is not a covariate; it is read on its own, as the customer's time so far.
        var elapsed = LoggedInputs.ToDataset(model.Schema.Data with { Features = [new FeatureSpec(model.Schema.DurationColumn, FeatureKind.Numeric)] }, rows).Columns[0].Numbers!;
        var risk = model.Forecast(covariates, elapsed).Select(f => -f.ExpectedLifetime).ToArray();
        var events = usable.Select(l => l.Churned).ToArray();
        var c = SurvivalMetrics.ConcordanceIndex([.. usable.Select(l => (l.ObservedAt - l.Time).TotalDays)], events, risk);
        return new RealisedSurvival(usable.Count, events.Count(e => e), skipped, double.IsNaN(c) ? null : c);
    }
}
