using Churn.Core.Features;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Churn.Core.Survival;

/// <summary>
/// A Cox proportional-hazards model (Cox, 1972): h(t | x) = h0(t) · exp(β·z), with z the encoded covariates standardised
/// on the training data (one-hot categories, missing values at the mean). β maximises the partial likelihood with
/// Efron's handling of tied event times (Efron, 1977) by Newton–Raphson with step halving, under a small ridge penalty
/// (λ/2)‖β‖² that keeps collinear one-hot columns (Telco's "No internet service" in several columns) identifiable.
/// The baseline cumulative hazard is Breslow's estimator (Breslow, 1972): H0(t) = Σ over event times t_k ≤ t of
/// d_k / Σ_{j at risk at t_k} exp(β·z_j).
/// </summary>
public sealed class CoxModel
{
    internal CoxModel(FeatureEncoder encoder, double[] means, double[] scales, double[] beta, double[] eventTimes, double[] cumulativeHazard)
    {
        Encoder = encoder;
        Means = means;
        Scales = scales;
        Coefficients = beta;
        EventTimes = eventTimes;
        CumulativeHazard = cumulativeHazard;
    }

    /// <summary>The default ridge penalty λ on the standardised coefficients.</summary>
    public const double DefaultRidge = 0.01;

    public FeatureEncoder Encoder { get; }

    /// <summary>Training mean of each encoded slot.</summary>
    public double[] Means { get; }

    /// <summary>Training standard deviation of each encoded slot (0 for a constant slot, which is then left out).</summary>
    public double[] Scales { get; }

    /// <summary>β, one per encoded slot, on the standardised scale.</summary>
    public double[] Coefficients { get; }

    /// <summary>Distinct event times of the training data, ascending.</summary>
    public double[] EventTimes { get; }

    /// <summary>Breslow's H0 just after each of <see cref="EventTimes"/>.</summary>
    public double[] CumulativeHazard { get; }

    /// <summary>Fits the model to survival data.</summary>
    /// <param name="data">Covariates, durations and events.</param>
    /// <param name="ridge">λ of the ridge penalty; 0 for the plain partial likelihood.</param>
    /// <exception cref="InvalidDataException">No row has the event.</exception>
    public static CoxModel Fit(SurvivalData data, double ridge = DefaultRidge)
    {
        if (!data.Events.Contains(true))
        {
            throw new InvalidDataException($"No customer has the event in column '{data.Schema.EventColumn}', so a hazard cannot be estimated.");
        }
        var encoder = FeatureEncoder.Fit(data.Covariates);
        var raw = encoder.EncodeAll(data.Covariates);
        var n = data.RowCount;
        var width = encoder.Width;
        var (means, scales) = Standardisation(raw, n, width);
        var z = Standardise(raw, n, width, means, scales);

        // Rows by duration, longest first: the risk set of a time is every row met so far.
        var order = Enumerable.Range(0, n).OrderByDescending(i => data.Durations[i]).ToArray();
        var beta = new double[width];
        var (loglik, gradient, hessian) = PartialLikelihood(z, width, data, order, beta, ridge);
        for (var iteration = 0; iteration < 60; iteration++)
        {
            var step = DenseMatrix.OfArray(hessian).Cholesky().Solve(DenseVector.OfArray(gradient)).ToArray();
            var scale = 1.0;
            double[] candidate;
            double next;
            double[] nextGradient;
            double[,] nextHessian;
            while (true)
            {
                candidate = [.. beta.Select((b, j) => b + scale * step[j])];
                (next, nextGradient, nextHessian) = PartialLikelihood(z, width, data, order, candidate, ridge);
                if (next >= loglik - 1e-12 || scale < 1e-6)
                {
                    break;
                }
                scale /= 2;
            }
            var gain = next - loglik;
            beta = candidate;
            loglik = next;
            gradient = nextGradient;
            hessian = nextHessian;
            if (Math.Abs(gain) < 1e-9 * (1 + Math.Abs(loglik)))
            {
                break;
            }
        }

        // Breslow's baseline from the fitted linear predictors.
        var eta = LinearPredictors(z, width, n, beta);
        var times = new List<double>();
        var hazard = new List<double>();
        var riskSum = 0.0;
        var steps = new List<(double Time, double Increment)>();
        for (var k = 0; k < n;)
        {
            var t = data.Durations[order[k]];
            var events = 0;
            while (k < n && data.Durations[order[k]] == t)
            {
                riskSum += Math.Exp(eta[order[k]]);
                events += data.Events[order[k]] ? 1 : 0;
                k++;
            }
            if (events > 0)
            {
                steps.Add((t, events / riskSum));
            }
        }
        steps.Reverse();
        var cumulative = 0.0;
        foreach (var (time, increment) in steps)
        {
            cumulative += increment;
            times.Add(time);
            hazard.Add(cumulative);
        }
        return new CoxModel(encoder, means, scales, beta, [.. times], [.. hazard]);
    }

    /// <summary>The linear predictor β·z of each row of a dataset read through the training schema.</summary>
    public double[] LinearPredictors(Dataset covariates)
    {
        var raw = Encoder.EncodeAll(covariates);
        var z = Standardise(raw, covariates.RowCount, Encoder.Width, Means, Scales);
        return LinearPredictors(z, Encoder.Width, covariates.RowCount, Coefficients);
    }

    /// <summary>Breslow's H0(t).</summary>
    public double BaselineCumulativeHazard(double t)
    {
        var i = Array.BinarySearch(EventTimes, t);
        var index = i >= 0 ? i : ~i - 1;
        return index < 0 ? 0 : CumulativeHazard[index];
    }

    /// <summary>S(t | x) = exp(−H0(t) · exp(β·z)) of each row, on the given grid.</summary>
    public SurvivalCurves Predict(Dataset covariates, IReadOnlyList<double> grid)
    {
        var eta = LinearPredictors(covariates);
        var baseline = grid.Select(BaselineCumulativeHazard).ToArray();
        var values = new double[eta.Length][];
        for (var i = 0; i < eta.Length; i++)
        {
            var relative = Math.Exp(eta[i]);
            values[i] = [.. baseline.Select(h => Math.Exp(-h * relative))];
        }
        return new SurvivalCurves(grid, values);
    }

    private static (double[] Means, double[] Scales) Standardisation(float[] raw, int n, int width)
    {
        var means = new double[width];
        var scales = new double[width];
        for (var j = 0; j < width; j++)
        {
            double sum = 0, sumSq = 0;
            var count = 0;
            for (var i = 0; i < n; i++)
            {
                var v = raw[i * width + j];
                if (!float.IsNaN(v))
                {
                    sum += v;
                    sumSq += (double)v * v;
                    count++;
                }
            }
            means[j] = count == 0 ? 0 : sum / count;
            var variance = count == 0 ? 0 : sumSq / count - means[j] * means[j];
            scales[j] = variance > 1e-12 ? Math.Sqrt(variance) : 0;
        }
        return (means, scales);
    }

    private static double[] Standardise(float[] raw, int n, int width, double[] means, double[] scales)
    {
        var z = new double[n * width];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < width; j++)
            {
                var v = raw[i * width + j];
                // Missing values and constant slots sit at the training mean, where they add nothing to the predictor.
                z[i * width + j] = float.IsNaN(v) || scales[j] == 0 ? 0 : (v - means[j]) / scales[j];
            }
        }
        return z;
    }

    private static double[] LinearPredictors(double[] z, int width, int n, double[] beta)
    {
        var eta = new double[n];
        for (var i = 0; i < n; i++)
        {
            var s = 0.0;
            for (var j = 0; j < width; j++)
            {
                s += z[i * width + j] * beta[j];
            }
            eta[i] = s;
        }
        return eta;
    }

    // The penalised log partial likelihood with Efron's ties, its gradient and minus its Hessian (positive definite).
    private static (double LogLik, double[] Gradient, double[,] Information) PartialLikelihood(double[] z, int p, SurvivalData data, int[] order, double[] beta, double ridge)
    {
        var n = order.Length;
        var eta = LinearPredictors(z, p, n, beta);
        var loglik = 0.0;
        var gradient = new double[p];
        var info = new double[p, p];
        var s0 = 0.0;
        var s1 = new double[p];
        var s2 = new double[p, p];
        var d1 = new double[p];
        var d2 = new double[p, p];
        var a1 = new double[p];
        for (var k = 0; k < n;)
        {
            var t = data.Durations[order[k]];
            var start = k;
            while (k < n && data.Durations[order[k]] == t)
            {
                var i = order[k];
                var w = Math.Exp(eta[i]);
                s0 += w;
                for (var a = 0; a < p; a++)
                {
                    var za = z[i * p + a];
                    if (za == 0)
                    {
                        continue;
                    }
                    s1[a] += w * za;
                    for (var b = 0; b <= a; b++)
                    {
                        s2[a, b] += w * za * z[i * p + b];
                    }
                }
                k++;
            }
            var m = 0;
            var d0 = 0.0;
            Array.Clear(d1);
            Array.Clear(d2);
            for (var g = start; g < k; g++)
            {
                var i = order[g];
                if (!data.Events[i])
                {
                    continue;
                }
                m++;
                var w = Math.Exp(eta[i]);
                d0 += w;
                loglik += eta[i];
                for (var a = 0; a < p; a++)
                {
                    var za = z[i * p + a];
                    gradient[a] += za;
                    d1[a] += w * za;
                    for (var b = 0; b <= a; b++)
                    {
                        d2[a, b] += w * za * z[i * p + b];
                    }
                }
            }
            for (var l = 0; l < m; l++)
            {
                // Efron: the l-th of m tied events sees the risk set with l/m of the tied events' weight removed.
                var f = (double)l / m;
                var a0 = s0 - f * d0;
                loglik -= Math.Log(a0);
                for (var a = 0; a < p; a++)
                {
                    a1[a] = s1[a] - f * d1[a];
                    gradient[a] -= a1[a] / a0;
                }
                for (var a = 0; a < p; a++)
                {
                    for (var b = 0; b <= a; b++)
                    {
                        info[a, b] += (s2[a, b] - f * d2[a, b]) / a0 - a1[a] * a1[b] / (a0 * a0);
                    }
                }
            }
        }
        for (var a = 0; a < p; a++)
        {
            loglik -= ridge / 2 * beta[a] * beta[a];
            gradient[a] -= ridge * beta[a];
            // A hair of extra curvature keeps slots that are constant in the training data (always 0) solvable without a ridge.
            info[a, a] += ridge + 1e-8;
            for (var b = 0; b < a; b++)
            {
                info[b, a] = info[a, b];
            }
        }
        return (loglik, gradient, info);
    }
}
