namespace Churn.Core.Campaigns;

/// <summary>One point of a Qini curve: after targeting <see cref="Targeted"/> customers, the incremental responders <see cref="Qini"/>.</summary>
public readonly record struct QiniPoint(double Targeted, double Qini);

/// <summary>A figure and its bootstrap 95 % interval.</summary>
public sealed record Estimate(double Value, double Low, double High)
{
    /// <summary>The interval as [low, high].</summary>
    public double[] Ci => [Low, High];
}

/// <summary>How well one ranking targets the customers whom treatment moves: the Qini coefficient and uplift at 30 %, with intervals.</summary>
public sealed record UpliftScore(Estimate Qini, Estimate UpliftAt30);

/// <summary>How an uplift ranking did on randomised customers: its figures with intervals and its Qini curve (thinned to draw).</summary>
public sealed record UpliftCheck(int Customers, UpliftScore Score, IReadOnlyList<QiniPoint> Curve);

/// <summary>
/// Measures of a ranking of customers by expected uplift, from randomised data (each customer treated or
/// control, with a binary outcome that treatment is meant to raise). The definitions follow
/// Radcliffe (2007), "Using control groups to target on predicted lift: building and assessing uplift models",
/// Direct Marketing Analytics Journal 1:14-21, as implemented by scikit-uplift's <c>qini_auc_score</c> and
/// <c>uplift_at_k</c>, so figures compare with published ones.
/// </summary>
public static class UpliftMetrics
{
    /// <summary>The share of customers that uplift at k targets in the product's read-outs.</summary>
    public const double TopShare = 0.3;

    /// <summary>
    /// The Qini curve: customers sorted by score (highest first; tied scores form one step); after the top k,
    /// Qini(k) = treated responders − control responders × (treated ÷ control), all counted in the top k
    /// (the control term is 0 while the top k holds no control customer). Starts at (0, 0).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static IReadOnlyList<QiniPoint> QiniCurve(ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes)
    {
        var order = Order(scores, treated, outcomes);
        var points = new List<QiniPoint> { new(0, 0) };
        Walk(order, scores, treated, outcomes, Ones(scores.Length), (x, y) => points.Add(new QiniPoint(x, y)));
        return points;
    }

    /// <summary>
    /// The Qini coefficient: the area between the Qini curve and the straight line from (0, 0) to (n, Qini(n)),
    /// divided by the same area for the best possible order (treated responders first, control responders last).
    /// 1 is a perfect ranking, 0 no better than random, negative worse than random. Areas are trapezoidal.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or an arm is empty.</exception>
    public static double QiniCoefficient(ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes)
    {
        var value = QiniCoefficient(Order(scores, treated, outcomes), scores, treated, outcomes, Ones(scores.Length));
        return double.IsNaN(value) ? throw new ArgumentException("The Qini coefficient needs treated and control customers and some response.", nameof(scores)) : value;
    }

    /// <summary>
    /// Uplift at k: among the ⌊k·n⌋ customers with the highest scores, the treated outcome rate minus the control
    /// outcome rate (a proportion).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or the top k lacks treated or control customers.</exception>
    public static double UpliftAtK(ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes, double k)
    {
        var value = UpliftAtK(Order(scores, treated, outcomes), treated, outcomes, Ones(scores.Length), k);
        return double.IsNaN(value) ? throw new ArgumentException($"The top {k:P0} holds no treated or no control customer.", nameof(scores)) : value;
    }

    /// <summary>
    /// The Qini coefficient and uplift at 30 % with percentile intervals from <paramref name="resamples"/> bootstrap
    /// resamples of the customers (seeded). Resamples in which the top 30 % lacks an arm are left out of that interval.
    /// </summary>
    /// <exception cref="InvalidDataException">The figures are undefined on these customers (an arm missing, no response).</exception>
    public static UpliftScore Evaluate(ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes, int resamples, int seed)
    {
        var order = Order(scores, treated, outcomes);
        var n = scores.Length;
        var qini = QiniCoefficient(order, scores, treated, outcomes, Ones(n));
        var at30 = UpliftAtK(order, treated, outcomes, Ones(n), TopShare);
        if (double.IsNaN(qini) || double.IsNaN(at30))
        {
            throw new InvalidDataException("An uplift ranking can be judged only with treated and control customers in the top 30 % and some response.");
        }
        var random = new Random(seed);
        var weights = new int[n];
        var qinis = new List<double>(resamples);
        var ups = new List<double>(resamples);
        for (var b = 0; b < resamples; b++)
        {
            Array.Clear(weights);
            for (var i = 0; i < n; i++)
            {
                weights[random.Next(n)]++;
            }
            var q = QiniCoefficient(order, scores, treated, outcomes, weights);
            var u = UpliftAtK(order, treated, outcomes, weights, TopShare);
            if (double.IsFinite(q))
            {
                qinis.Add(q);
            }
            if (double.IsFinite(u))
            {
                ups.Add(u);
            }
        }
        return new UpliftScore(Interval(qini, qinis), Interval(at30, ups));
    }

    /// <summary>
    /// <see cref="Evaluate"/> and the Qini curve thinned to at most <paramref name="points"/> points, or null when the
    /// figures are undefined on these customers (an arm missing from the top 30 %, or no response at all).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static UpliftCheck? Check(double[] scores, bool[] treated, bool[] outcomes, int resamples, int seed, int points = 101)
    {
        if (!treated.Contains(true) || !treated.Contains(false) || !outcomes.Contains(true))
        {
            return null;
        }
        var order = Order(scores, treated, outcomes);
        if (double.IsNaN(UpliftAtK(order, treated, outcomes, Ones(scores.Length), TopShare)) || double.IsNaN(QiniCoefficient(order, scores, treated, outcomes, Ones(scores.Length))))
        {
            return null;
        }
        return new UpliftCheck(scores.Length, Evaluate(scores, treated, outcomes, resamples, seed), Thin(QiniCurve(scores, treated, outcomes), points));
    }

    /// <summary>At most <paramref name="points"/> evenly spaced points of a curve, its first and last included.</summary>
    public static IReadOnlyList<QiniPoint> Thin(IReadOnlyList<QiniPoint> curve, int points)
    {
        if (curve.Count <= points || points < 2)
        {
            return [.. curve];
        }
        return [.. Enumerable.Range(0, points).Select(i => curve[(int)Math.Round(i * (curve.Count - 1) / (double)(points - 1))])];
    }

    private static Estimate Interval(double value, List<double> samples)
    {
        if (samples.Count == 0)
        {
            return new Estimate(value, value, value);
        }
        samples.Sort();
        return new Estimate(value, ReferenceProfiler.Quantile(samples, 0.025), ReferenceProfiler.Quantile(samples, 0.975));
    }

    private static int[] Ones(int n)
    {
        var w = new int[n];
        Array.Fill(w, 1);
        return w;
    }

    // Highest score first; among ties the later row first, as a reversed stable ascending sort would give.
    private static int[] Order(ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes)
    {
        if (treated.Length != scores.Length || outcomes.Length != scores.Length)
        {
            throw new ArgumentException("Scores, arms and outcomes must have one entry per customer.", nameof(scores));
        }
        var copy = scores.ToArray();
        var order = Enumerable.Range(0, scores.Length).ToArray();
        Array.Sort(order, (a, b) => copy[b].CompareTo(copy[a]) is var c && c != 0 ? c : b.CompareTo(a));
        return order;
    }

    // Calls back at the end of every group of tied scores with (customers so far, Qini so far), weighted.
    private static void Walk(int[] order, ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes, int[] weights, Action<double, double> point)
    {
        var n = new ArmCounts();
        for (var j = 0; j < order.Length; j++)
        {
            var i = order[j];
            var w = weights[i];
            n.Add(treated[i], outcomes[i], w);
            if (j == order.Length - 1 || scores[order[j + 1]] != scores[i])
            {
                point(n.Treated + n.Control, n.TreatedResponders - (n.Control > 0 ? n.ControlResponders * n.Treated / n.Control : 0));
            }
        }
    }

    private static double QiniCoefficient(int[] order, ReadOnlySpan<double> scores, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes, int[] weights)
    {
        double area = 0, lastX = 0, lastY = 0;
        Walk(order, scores, treated, outcomes, weights, (x, y) =>
        {
            area += (x - lastX) * (y + lastY) / 2;
            (lastX, lastY) = (x, y);
        });
        // Totals, for the random line and the best possible order.
        var totals = new ArmCounts();
        for (var i = 0; i < weights.Length; i++)
        {
            totals.Add(treated[i], outcomes[i], weights[i]);
        }
        var (nt, nc, rt, rc) = (totals.Treated, totals.Control, totals.TreatedResponders, totals.ControlResponders);
        if (nt == 0 || nc == 0)
        {
            return double.NaN;
        }
        var n = nt + nc;
        var end = rt - rc * nt / nc;
        var baseline = n * end / 2;
        // The best order: treated responders (Qini rises to rt), then every non-responder (it stays at rt), then
        // control responders (it falls to its end value).
        var perfect = Trapezoid([(0, 0), (rt, rt), (n - rc, rt), (n, end)]);
        var best = perfect - baseline;
        return best == 0 ? double.NaN : (area - baseline) / best;
    }

    private static double Trapezoid(IReadOnlyList<(double X, double Y)> points)
    {
        double area = 0;
        for (var i = 1; i < points.Count; i++)
        {
            area += (points[i].X - points[i - 1].X) * (points[i].Y + points[i - 1].Y) / 2;
        }
        return area;
    }

    private static double UpliftAtK(int[] order, ReadOnlySpan<bool> treated, ReadOnlySpan<bool> outcomes, int[] weights, double k)
    {
        long total = 0;
        foreach (var w in weights)
        {
            total += w;
        }
        var take = (long)Math.Floor(total * k);
        var n = new ArmCounts();
        foreach (var i in order)
        {
            if (take <= 0)
            {
                break;
            }
            var w = Math.Min(weights[i], take);
            take -= w;
            n.Add(treated[i], outcomes[i], w);
        }
        return n.Treated == 0 || n.Control == 0 ? double.NaN : n.TreatedResponders / n.Treated - n.ControlResponders / n.Control;
    }

    /// <summary>Weighted customers and responders counted so far, per arm.</summary>
    private struct ArmCounts
    {
        public double Treated;
        public double Control;
        public double TreatedResponders;
        public double ControlResponders;

        public void Add(bool treated, bool responded, double weight)
        {
            if (treated)
            {
                Treated += weight;
                TreatedResponders += responded ? weight : 0;
            }
            else
            {
                Control += weight;
                ControlResponders += responded ? weight : 0;
            }
        }
    }
}
