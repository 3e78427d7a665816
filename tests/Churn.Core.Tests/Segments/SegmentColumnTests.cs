using Churn.Core.Segments;

namespace Churn.Core.Tests.Segments;

public class SegmentColumnTests
{
    [Fact]
    public void ASegmentListNamesCategoricalColumnsAndNumericBands()
    {
        var columns = SegmentColumn.ParseList(" contract ; tenureMonths: 6, 24 ;region");

        Assert.Equal(["contract", "tenureMonths", "region"], columns.Select(c => c.Column));
        Assert.Equal([6.0, 24.0], columns[1].Edges);
        Assert.Equal("<6", columns[1].Band(5.9));
        Assert.Equal("6-24", columns[1].Band(6));
        Assert.Equal("24+", columns[1].Band(72));
        Assert.Empty(SegmentColumn.ParseList("  "));
    }

    [Theory]
    [InlineData("tenureMonths: 24, 6", "must increase")]
    [InlineData("tenureMonths: six", "'six' is not a number")]
    [InlineData(": 6", "no column name")]
    [InlineData("contract; contract", "named twice")]
    public void AMalformedSegmentListIsRefusedSayingWhy(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => SegmentColumn.ParseList(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRowGetsTheKeyOfItsSegmentAndAColumnOfTheWrongKindIsRefused()
    {
        var data = DatasetLoader.Read(new CsvReader(new StringReader(GeneratedCustomers.Csv(200, seed: 3)), "generated"), CustomerGenerator.Schema, LabelRequirement.Optional, false, "x", out _);

        var contract = SegmentColumn.ParseList("contract")[0].Assign(data);
        var tenure = SegmentColumn.ParseList("tenureMonths: 12")[0].Assign(data);

        Assert.All(contract, k => Assert.StartsWith("contract=", k, StringComparison.Ordinal));
        Assert.Equal(3, contract.Distinct().Count());
        Assert.Equal(data.Columns[0].Numbers!.Count(t => t < 12), tenure.Count(k => k == "tenureMonths=<12"));
        Assert.Throws<ArgumentException>(() => SegmentColumn.ParseList("tenureMonths")[0].Assign(data));
        Assert.Throws<ArgumentException>(() => SegmentColumn.ParseList("contract: 1")[0].Assign(data));
        Assert.Contains("not a feature", Assert.Throws<ArgumentException>(() => SegmentColumn.ParseList("plan")[0].Assign(data)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ObservedAgainstExpectedChurnIsOneWhenCalibratedAndItsIntervalExcludesOneWhenNot()
    {
        var random = new Random(5);
        var p = Enumerable.Range(0, 4000).Select(_ => 0.1 + (0.5 * random.NextDouble())).ToArray();
        var calibrated = p.Select(x => random.NextDouble() < x).ToArray();
        var underPredicted = p.Select(x => random.NextDouble() < x * 1.2).ToArray();

        var good = CalibrationCheck.From(p, calibrated)!;
        var bad = CalibrationCheck.From(p, underPredicted)!;

        Assert.InRange(good.Ratio!.Value, 0.95, 1.05);
        Assert.False(good.IsMiscalibrated(0.05));
        Assert.InRange(bad.Ratio!.Value, 1.12, 1.28);
        Assert.True(bad.IsMiscalibrated(0.05), bad.ToString());
        Assert.Equal("too little churn predicted", bad.Direction);
        // Twenty predictions of 0.5, ten churned: E = 10, Σ p(1 − p) = 5, so the half width is 1.96 √5 / 10.
        var small = CalibrationCheck.From([.. Enumerable.Repeat(0.5, 20)], [.. Enumerable.Range(0, 20).Select(i => i < 10)])!;
        Assert.Equal(1, small.Ratio!.Value, 1e-9);
        Assert.Equal(1.959964 * Math.Sqrt(5) / 10, small.High!.Value - 1, 1e-5);
        Assert.Null(CalibrationCheck.From([0.5], [true]));
    }
}
