namespace Churn.Core.Generation;

/// <summary>
/// The distributions the generator draws from, all built on one seeded <see cref="Random"/>.
/// A seeded <see cref="Random"/> uses the same algorithm on every platform and runtime version,
/// whereas the library's other samplers may change; drawing everything here keeps output stable.
/// </summary>
internal sealed class SeededSampler(int seed)
{
    private readonly Random _random = new(seed);
    private double _spareNormal;
    private bool _hasSpareNormal;

    /// <summary>Uniform on [0, 1).</summary>
    public double Uniform() => _random.NextDouble();

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Bernoulli(double p) => _random.NextDouble() < p;

    /// <summary>Standard normal by Box-Muller; the second variate of each pair is kept for the next call.</summary>
    public double Normal()
    {
        if (_hasSpareNormal)
        {
            _hasSpareNormal = false;
            return _spareNormal;
        }
        // 1 - U lies in (0, 1], so the logarithm is always finite.
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - _random.NextDouble()));
        var angle = 2.0 * Math.PI * _random.NextDouble();
        _spareNormal = radius * Math.Sin(angle);
        _hasSpareNormal = true;
        return radius * Math.Cos(angle);
    }

    /// <summary>Normal with the given mean and standard deviation.</summary>
    public double Normal(double mean, double sd) => mean + (sd * Normal());

    /// <summary>Exponential with the given mean.</summary>
    public double Exponential(double mean) => -mean * Math.Log(1.0 - _random.NextDouble());

    /// <summary>Poisson count by Knuth's multiplication method; fine for the small rates used here.</summary>
    public int Poisson(double rate)
    {
        var limit = Math.Exp(-rate);
        var count = 0;
        var product = _random.NextDouble();
        while (product > limit)
        {
            count++;
            product *= _random.NextDouble();
        }
        return count;
    }

    /// <summary>An index drawn from cumulative weights ending at 1.</summary>
    public int Pick(double[] cumulative)
    {
        var u = _random.NextDouble();
        for (var i = 0; i < cumulative.Length - 1; i++)
        {
            if (u < cumulative[i])
            {
                return i;
            }
        }
        // Rounding can leave the last cumulative weight a hair under 1; the last category takes the rest.
        return cumulative.Length - 1;
    }

    /// <summary>
    /// Cumulative weights blending <paramref name="atZero"/> and <paramref name="atOne"/> by
    /// <paramref name="drift"/>, normalised to sum to 1.
    /// </summary>
    public static double[] Cumulative(double[] atZero, double[] atOne, double drift)
    {
        var cumulative = new double[atZero.Length];
        var total = 0.0;
        for (var i = 0; i < atZero.Length; i++)
        {
            total += atZero[i] + ((atOne[i] - atZero[i]) * drift);
            cumulative[i] = total;
        }
        for (var i = 0; i < cumulative.Length; i++)
        {
            cumulative[i] /= total;
        }
        return cumulative;
    }
}
