namespace Churn.Core.Tests.Generation;

public class GeneratorOptionsTests
{
    [Fact]
    public void DefaultsAreSeed42AndNoDrift()
    {
        var options = new GeneratorOptions { Rows = 10 };

        Assert.Equal(42, options.Seed);
        Assert.Equal(0, options.Drift);
        Assert.Null(options.AsOf);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void FewerThanOneRowIsRefused(int rows)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new GeneratorOptions { Rows = rows });

        Assert.Equal("Rows", ex.ParamName);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void DriftOutsideZeroToOneIsRefused(double drift)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new GeneratorOptions { Rows = 1, Drift = drift });

        Assert.Equal("Drift", ex.ParamName);
    }

    [Fact]
    public void DriftAtEitherEndIsAccepted()
    {
        Assert.Equal(0, new GeneratorOptions { Rows = 1, Drift = 0 }.Drift);
        Assert.Equal(1, new GeneratorOptions { Rows = 1, Drift = 1 }.Drift);
    }
}
