using MathNet.Numerics.Statistics;

namespace Churn.Core.Survival;

/// <summary>
/// Finds numeric covariates that track the duration, such as Telco's <c>TotalCharges</c> (about tenure × monthly
/// charges): known only because the customer stayed that long, they leak the outcome into the model.
/// </summary>
public static class DurationLeakage
{
    /// <summary>Covariates whose Spearman rank correlation with the duration is at least this (in absolute value) are named.</summary>
    public const double Threshold = 0.8;

    /// <summary>One note per numeric covariate whose rank correlation with the duration reaches <see cref="Threshold"/>.</summary>
    public static IReadOnlyList<string> Check(SurvivalData data)
    {
        var notes = new List<string>();
        foreach (var column in data.Covariates.Columns)
        {
            if (column.Spec.Kind != FeatureKind.Numeric || column.Numbers is not { } numbers)
            {
                continue;
            }
            var present = Enumerable.Range(0, numbers.Length).Where(i => !double.IsNaN(numbers[i])).ToArray();
            if (present.Length < 10)
            {
                continue;
            }
            var rho = Correlation.Spearman(present.Select(i => numbers[i]), present.Select(i => data.Durations[i]));
            if (Math.Abs(rho) >= Threshold)
            {
                notes.Add($"column '{column.Spec.Name}' has a rank correlation of {rho.ToString("0.00", CultureInfo.InvariantCulture)} with the duration '{data.Schema.DurationColumn}'; " +
                    "if it is derived from the duration (a running total, an age of the account), drop it: it leaks the outcome.");
            }
        }
        return notes;
    }
}
