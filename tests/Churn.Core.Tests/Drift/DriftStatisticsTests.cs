using Churn.Core.Drift;

namespace Churn.Core.Tests.Drift;

public class DriftStatisticsTests
{
    [Fact]
    public void KsStatisticIsTheLargestGapBetweenEmpiricalCdfs()
    {
        // F_ref steps at 1,2,3,4 (0.25 each); F_cur at 3,4,5,6. At x=2: F_ref=0.5, F_cur=0 -> D=0.5.
        var (d, p) = DriftStatistics.KolmogorovSmirnov([1, 2, 3, 4], [3, 4, 5, 6]);

        Assert.Equal(0.5, d, 1e-12);
        Assert.InRange(p, 0.3, 1);
    }

    [Fact]
    public void KsPValueMatchesTheAsymptoticFormula()
    {
        // n=m=100, D=0.2: ne=50, lambda=(sqrt(50)+0.12+0.11/sqrt(50))*0.2=1.4413; Q(lambda)=0.0314
        var reference = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var current = Enumerable.Range(20, 100).Select(i => (double)i).ToArray();

        var (d, p) = DriftStatistics.KolmogorovSmirnov(reference, current);

        Assert.Equal(0.2, d, 1e-12);
        var lambda = (Math.Sqrt(50) + 0.12 + 0.11 / Math.Sqrt(50)) * 0.2;
        var q = 2 * Enumerable.Range(1, 50).Sum(k => Math.Pow(-1, k - 1) * Math.Exp(-2.0 * k * k * lambda * lambda));
        Assert.Equal(q, p, 1e-9);
        Assert.InRange(p, 0.031, 0.032);
    }

    [Fact]
    public void IdenticalSamplesDoNotDrift()
    {
        var sample = Enumerable.Range(0, 500).Select(i => Math.Sin(i)).Order().ToArray();

        Assert.Equal((0.0, 1.0), DriftStatistics.KolmogorovSmirnov(sample, sample));
        Assert.Equal(0, DriftStatistics.Wasserstein(sample, sample), 1e-12);
    }

    [Fact]
    public void WassersteinOfAShiftIsTheShift()
    {
        var reference = new double[] { 0, 1, 2, 3 };
        var current = reference.Select(v => v + 0.75).ToArray();

        Assert.Equal(0.75, DriftStatistics.Wasserstein(reference, current), 1e-12);
    }

    [Fact]
    public void WassersteinMatchesAHandComputedExample()
    {
        // Ref {0,0,1}, cur {0,1,1}: |F_ref - F_cur| = |2/3 - 1/3| on [0,1) -> area 1/3.
        Assert.Equal(1.0 / 3, DriftStatistics.Wasserstein([0, 0, 1], [0, 1, 1]), 1e-12);
    }

    [Fact]
    public void ChiSquaredMatchesAHandComputedTable()
    {
        // Ref (30, 10), cur (20, 20); totals 40/40, columns 50/30. Expected 25/15 in both rows.
        // chi = (5²/25 + 5²/15) * 2 = 2 + 3.3333 = 5.3333; df=1; p = erfc(sqrt(chi/2)) = 0.020921.
        var (chi, p) = DriftStatistics.ChiSquared([30, 10], [20, 20]);

        Assert.Equal(16.0 / 3, chi, 1e-9);
        Assert.Equal(0.020921335337794, p, 1e-6);
    }

    [Fact]
    public void JensenShannonIsZeroForEqualAndOneForDisjoint()
    {
        Assert.Equal(0, DriftStatistics.JensenShannon([1, 2, 3], [2, 4, 6]), 1e-12);
        Assert.Equal(1, DriftStatistics.JensenShannon([1, 0], [0, 1]), 1e-12);
    }

    [Fact]
    public void JensenShannonMatchesAHandComputedValue()
    {
        // p=(0.5,0.5), q=(1,0): m=(0.75,0.25). JS = 0.5*[0.5log2(0.5/0.75)+0.5log2(0.5/0.25)] + 0.5*[1*log2(1/0.75)]
        var js = 0.5 * (0.5 * Math.Log2(0.5 / 0.75) + 0.5 * Math.Log2(2)) + 0.5 * Math.Log2(1 / 0.75);

        Assert.Equal(Math.Sqrt(js), DriftStatistics.JensenShannon([1, 1], [1, 0]), 1e-12);
    }

    [Fact]
    public void PsiMatchesTheTextbookFormula()
    {
        // (0.3-0.5)ln(0.3/0.5) + (0.7-0.5)ln(0.7/0.5) = 0.102165 + 0.067294 = 0.169459
        Assert.Equal(0.2 * Math.Log(5.0 / 3) + 0.2 * Math.Log(1.4), DriftStatistics.Psi([5, 5], [3, 7]), 1e-12);
        Assert.Equal(0, DriftStatistics.Psi([1, 2], [2, 4]), 1e-12);
    }

    [Fact]
    public void WassersteinFromCountsEqualsWassersteinOfTheValuesRepeated()
    {
        var random = new Random(5);
        var reference = Enumerable.Range(0, 300).Select(_ => random.NextDouble() * 4).Order().ToArray();
        double[] values = [-1, 0.5, 0.5000001, 1.2, 2, 3.9, 7];
        long[] counts = [3, 1, 40, 7, 12, 1, 2];
        var repeated = values.SelectMany((v, i) => Enumerable.Repeat(v, (int)counts[i])).ToArray();

        Assert.Equal(DriftStatistics.Wasserstein(reference, repeated), DriftStatistics.Wasserstein(reference, values, counts), 1e-12);
        Assert.Equal(1.0 / 3, DriftStatistics.Wasserstein([0, 0, 1], [0, 1], [1, 2]), 1e-12);
        Assert.Throws<ArgumentException>(() => DriftStatistics.Wasserstein(reference, values, [1, 2]));
    }
}
