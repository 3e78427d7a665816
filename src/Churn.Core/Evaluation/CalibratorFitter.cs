namespace Churn.Core.Evaluation;

/// <summary>
/// Fits a <see cref="CalibrationModel"/> on held-out scores and labels. ML.NET's tree trainers
/// turn scores into probabilities with a fixed sigmoid, which is usually over- or under-confident;
/// fitting the map on data the model did not train on fixes that without changing the ranking.
/// </summary>
public static class CalibratorFitter
{
    private const int MaxIterations = 100;
    private const double MinStep = 1e-10;
    private const double HessianRidge = 1e-12;
    private const double GradientTolerance = 1e-5;

    /// <summary>
    /// Platt scaling, p = 1 / (1 + exp(A * s + B)), fitted by maximum likelihood against Platt's
    /// smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2), with the Newton method and
    /// backtracking line search of Lin, Lin and Weng (2007), "A note on Platt's probabilistic
    /// outputs for support vector machines".
    /// </summary>
    /// <param name="scores">Finite raw scores (e.g. ML.NET's Score column).</param>
    /// <param name="labels">True for churners.</param>
    /// <exception cref="ArgumentException">Invalid input or only one class present.</exception>
    public static CalibrationModel FitPlatt(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        var positives = EvaluationInput.CountPositives(labels);
        var negatives = labels.Length - positives;
        EvaluationInput.RequireBothClasses(positives, labels.Length, nameof(labels));

        // Smoothed targets keep the fit finite on separable data, where the unsmoothed
        // likelihood is maximised only at infinite A.
        var highTarget = (positives + 1.0) / (positives + 2.0);
        var lowTarget = 1.0 / (negatives + 2.0);

        var a = 0.0;
        var b = Math.Log((negatives + 1.0) / (positives + 1.0));
        var objective = Objective(scores, labels, a, b, highTarget, lowTarget);

        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            // Gradient and Hessian of the cross-entropy in (A, B). The small ridge keeps the
            // Hessian invertible when every score is equal.
            double h11 = HessianRidge, h22 = HessianRidge, h21 = 0, g1 = 0, g2 = 0;
            for (var i = 0; i < scores.Length; i++)
            {
                var s = scores[i];
                var fApB = (s * a) + b;
                // p is the fitted churn probability and q = 1 - p, both computed without overflow.
                var p = CalibrationModel.Sigmoid(-fApB);
                var q = CalibrationModel.Sigmoid(fApB);
                var d2 = p * q;
                h11 += s * s * d2;
                h22 += d2;
                h21 += s * d2;
                var d1 = (labels[i] ? highTarget : lowTarget) - p;
                g1 += s * d1;
                g2 += d1;
            }
            if (Math.Abs(g1) < GradientTolerance && Math.Abs(g2) < GradientTolerance)
            {
                break;
            }

            var det = (h11 * h22) - (h21 * h21);
            var dA = -((h22 * g1) - (h21 * g2)) / det;
            var dB = -((-h21 * g1) + (h11 * g2)) / det;
            var slope = (g1 * dA) + (g2 * dB);

            // Backtracking with the Armijo condition; Newton steps overshoot far from the optimum.
            var step = 1.0;
            var accepted = false;
            while (step >= MinStep)
            {
                var newA = a + (step * dA);
                var newB = b + (step * dB);
                var newObjective = Objective(scores, labels, newA, newB, highTarget, lowTarget);
                if (newObjective < objective + (0.0001 * step * slope))
                {
                    a = newA;
                    b = newB;
                    objective = newObjective;
                    accepted = true;
                    break;
                }
                step /= 2.0;
            }

            // No step improves the objective: we are at the optimum to within rounding, so the
            // current parameters are the answer (LIBSVM reports and returns them the same way).
            if (!accepted)
            {
                break;
            }
        }

        return CalibrationModel.Platt(a, b);
    }

    /// <summary>
    /// Isotonic regression by pool-adjacent-violators on scores sorted ascending, with tied scores
    /// pooled first so equal scores always get equal probabilities. Each block becomes one knot at
    /// its mean score carrying its churn rate; <see cref="CalibrationModel.Apply"/> interpolates
    /// linearly between knots and clamps outside them.
    /// </summary>
    /// <param name="scores">Finite raw scores or probabilities.</param>
    /// <param name="labels">True for churners.</param>
    /// <exception cref="ArgumentException">Invalid input or only one class present.</exception>
    public static CalibrationModel FitIsotonic(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        EvaluationInput.RequireBothClasses(EvaluationInput.CountPositives(labels), labels.Length, nameof(labels));
        return FitIsotonic(RankedScores.Build(scores, labels));
    }

    internal static CalibrationModel FitIsotonic(RankedScores ranked)
    {
        // Blocks on a stack, ascending by score. Counts are integers, so comparing block means by
        // cross-multiplication is exact and never merges or splits blocks by rounding error.
        var weights = new long[ranked.Groups];
        var churners = new long[ranked.Groups];
        var scoreSums = new double[ranked.Groups];
        var lowest = new double[ranked.Groups];
        var highest = new double[ranked.Groups];
        var top = -1;
        for (var g = ranked.Groups - 1; g >= 0; g--)
        {
            top++;
            weights[top] = ranked.GroupSize(g);
            churners[top] = ranked.GroupPositives(g);
            scoreSums[top] = ranked.Thresholds[g] * weights[top];
            lowest[top] = highest[top] = ranked.Thresholds[g];

            // Merging equal means as well as decreasing ones leaves strictly increasing values
            // and fewer knots, with the same fitted function.
            while (top > 0 && churners[top - 1] * weights[top] >= churners[top] * weights[top - 1])
            {
                weights[top - 1] += weights[top];
                churners[top - 1] += churners[top];
                scoreSums[top - 1] += scoreSums[top];
                highest[top - 1] = highest[top];
                top--;
            }
        }

        var thresholds = new double[top + 1];
        var values = new double[top + 1];
        for (var k = 0; k <= top; k++)
        {
            // A rounded mean can stray an ulp outside its block; clamping keeps knots strictly
            // increasing even when neighbouring blocks' scores are one ulp apart.
            thresholds[k] = Math.Clamp(scoreSums[k] / weights[k], lowest[k], highest[k]);
            values[k] = (double)churners[k] / weights[k];
        }
        return CalibrationModel.Isotonic(thresholds, values);
    }

    /// <summary>Cross-entropy against the smoothed targets, written to avoid exp overflow.</summary>
    private static double Objective(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, double a, double b, double highTarget, double lowTarget)
    {
        var sum = 0.0;
        for (var i = 0; i < scores.Length; i++)
        {
            var t = labels[i] ? highTarget : lowTarget;
            var fApB = (scores[i] * a) + b;
            sum += fApB >= 0
                ? (t * fApB) + Math.Log(1.0 + Math.Exp(-fApB))
                : ((t - 1.0) * fApB) + Math.Log(1.0 + Math.Exp(fApB));
        }
        return sum;
    }
}
