namespace Churn.Core.Evaluation;

/// <summary>
/// Maps a model's raw score to a calibrated churn probability. Stored in the model card, so it
/// is plain data: a method name plus the parameters that method uses (the others stay empty).
/// </summary>
public sealed record CalibrationModel
{
    /// <summary>Method name: identity clamped to [0, 1].</summary>
    public const string NoneMethod = "none";

    /// <summary>Method name: Platt's sigmoid p = 1 / (1 + exp(A * s + B)).</summary>
    public const string PlattMethod = "platt";

    /// <summary>Method name: monotone piecewise-linear map fitted by isotonic regression.</summary>
    public const string IsotonicMethod = "isotonic";

    /// <summary>The identity, clamped to [0, 1]: for scores that already are probabilities.</summary>
    public static CalibrationModel None { get; } = new() { Method = NoneMethod };

    /// <summary>One of "none", "platt" or "isotonic".</summary>
    public required string Method { get; init; }

    /// <summary>Platt slope; negative when higher scores mean more churn.</summary>
    public double A { get; init; }

    /// <summary>Platt intercept.</summary>
    public double B { get; init; }

    /// <summary>Isotonic knots on the score axis, strictly increasing.</summary>
    public IReadOnlyList<double> Thresholds { get; init; } = [];

    /// <summary>Isotonic probabilities at each knot, non-decreasing.</summary>
    public IReadOnlyList<double> Values { get; init; } = [];

    /// <summary>A Platt model with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is not finite.</exception>
    public static CalibrationModel Platt(double a, double b)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b))
        {
            throw new ArgumentException($"Platt parameters must be finite (A = {a}, B = {b}).", nameof(a));
        }
        return new CalibrationModel { Method = PlattMethod, A = a, B = b };
    }

    /// <summary>An isotonic model from knots and their probabilities.</summary>
    /// <exception cref="ArgumentException">The lists are empty, differ in length, or are not monotone probabilities.</exception>
    public static CalibrationModel Isotonic(IReadOnlyList<double> thresholds, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        ArgumentNullException.ThrowIfNull(values);
        if (thresholds.Count == 0 || thresholds.Count != values.Count)
        {
            throw new ArgumentException($"Isotonic calibration needs as many values ({values.Count}) as thresholds ({thresholds.Count}), at least one.", nameof(values));
        }
        for (var i = 0; i < thresholds.Count; i++)
        {
            if (!double.IsFinite(thresholds[i]) || (i > 0 && !(thresholds[i] > thresholds[i - 1])))
            {
                throw new ArgumentException($"thresholds[{i}] = {thresholds[i]} is not finite and strictly above the previous one.", nameof(thresholds));
            }
            if (!(values[i] >= 0.0 && values[i] <= 1.0) || (i > 0 && values[i] < values[i - 1]))
            {
                throw new ArgumentException($"values[{i}] = {values[i]} is not a probability at or above the previous one.", nameof(values));
            }
        }
        return new CalibrationModel { Method = IsotonicMethod, Thresholds = thresholds, Values = values };
    }

    /// <summary>The calibrated probability of a raw score, always within [0, 1].</summary>
    /// <exception cref="ArgumentException"><paramref name="score"/> is NaN.</exception>
    /// <exception cref="InvalidOperationException">The method is unknown or its parameters are missing (e.g. a hand-edited model card).</exception>
    public double Apply(double score)
    {
        if (double.IsNaN(score))
        {
            throw new ArgumentException("Cannot calibrate a NaN score.", nameof(score));
        }
        return Method switch
        {
            NoneMethod => Math.Clamp(score, 0.0, 1.0),
            PlattMethod => Sigmoid(-((A * score) + B)),
            IsotonicMethod => Interpolate(score),
            _ => throw new InvalidOperationException($"Unknown calibration method '{Method}'; expected none, platt or isotonic."),
        };
    }

    /// <summary>1 / (1 + exp(-x)) without overflow in exp for large |x|.</summary>
    internal static double Sigmoid(double x)
    {
        if (x >= 0)
        {
            return 1.0 / (1.0 + Math.Exp(-x));
        }
        var e = Math.Exp(x);
        return e / (1.0 + e);
    }

    private double Interpolate(double score)
    {
        var knots = Thresholds.Count;
        if (knots == 0 || knots != Values.Count)
        {
            throw new InvalidOperationException($"Isotonic calibration has {knots} thresholds and {Values.Count} values; they must match and not be empty.");
        }
        if (score <= Thresholds[0])
        {
            return Values[0];
        }
        if (score >= Thresholds[knots - 1])
        {
            return Values[knots - 1];
        }

        // Binary search for the last knot at or below the score; the loop keeps
        // Thresholds[lo] <= score < Thresholds[hi].
        int lo = 0, hi = knots - 1;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) >>> 1;
            if (Thresholds[mid] <= score)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        var width = Thresholds[hi] - Thresholds[lo];
        var t = width > 0 ? (score - Thresholds[lo]) / width : 1.0;
        return Values[lo] + (t * (Values[hi] - Values[lo]));
    }
}
