namespace Churn.Core.Scoring;

/// <summary>
/// The units a prediction's contributions and base value are given in. In either, <c>base + Σ contributions</c> is
/// the prediction's log-odds in that unit, exactly (SHAP's local accuracy).
/// </summary>
public static class ContributionUnits
{
    /// <summary>Calibrated log-odds (Platt calibration): the probability is <c>1 / (1 + exp(-(base + Σ)))</c>.</summary>
    public const string LogOdds = "log-odds";

    /// <summary>
    /// The model's log-odds before a non-linear (isotonic) calibration: the probability is that calibration applied to
    /// <c>base + Σ</c>, which keeps the order but not the sum.
    /// </summary>
    public const string ModelLogOdds = "model-log-odds";
}
