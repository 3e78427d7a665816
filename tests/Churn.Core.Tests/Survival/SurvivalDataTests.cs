using Churn.Core.Survival;

namespace Churn.Core.Tests.Survival;

public class SurvivalDataTests
{
    [Fact]
    public void LoadTakesTheDurationOutOfTheCovariates()
    {
        var data = KnownHazard.LoadRows("a,1,a,20,3,1\nb,2,b,25,0,0\nc,0.5,a,21,7,0\n");

        Assert.Equal([3.0, 0, 7], data.Durations);
        Assert.Equal([true, false, false], data.Events);
        Assert.Equal(["x", "plan", "monthly"], data.Covariates.Columns.Select(c => c.Spec.Name));
        Assert.Equal(7, data.LongestDuration);
    }

    [Fact]
    public void ANegativeDurationIsRefusedNamingTheColumnAndLine()
    {
        var ex = Assert.Throws<CsvFormatException>(() => KnownHazard.LoadRows("a,1,a,20,3,1\nb,2,b,25,-2,0\n"));

        Assert.Equal(3, ex.Line);
        Assert.Equal(5, ex.Column);
        Assert.Contains("'months'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("negative", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDurationIsRefusedNamingTheColumnAndLine()
    {
        var ex = Assert.Throws<CsvFormatException>(() => KnownHazard.LoadRows("a,1,a,20,,1\n"));

        Assert.Equal(2, ex.Line);
        Assert.Contains("'months'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDurationColumnIsNamed()
    {
        var ex = Assert.Throws<CsvFormatException>(() => SurvivalData.Load(TestFiles.Temp("id,x,plan,monthly,churned\na,1,a,20,1\n"), KnownHazard.Schema()));

        Assert.Contains("'months'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("duration", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEventColumnWithOtherValuesIsRefusedNamingIt()
    {
        var ex = Assert.Throws<InvalidDataException>(() => KnownHazard.LoadRows("a,1,a,20,3,1\nb,2,b,25,4,0\nc,2,b,25,4,2\n"));

        Assert.Contains("'churned'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADurationNamedAsAFeatureIsRefused()
    {
        var schema = KnownHazard.Schema();
        schema = schema with { Data = schema.Data with { Features = [.. schema.Data.Features, new FeatureSpec("months", FeatureKind.Numeric)] } };

        var ex = Assert.Throws<SchemaException>(() => schema.Validated());

        Assert.Contains("duration column 'months' is listed as a feature", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASchemaFileWithoutADurationColumnIsRefused()
    {
        var ex = Assert.Throws<SchemaException>(() => SurvivalSchema.Parse(KnownHazard.Schema().Data.ToJson(), "s.json"));

        Assert.Contains("durationColumn", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASchemaRoundTripsThroughJson()
    {
        var schema = KnownHazard.Schema([2, 4]);

        var read = SurvivalSchema.Parse(schema.ToJson());

        Assert.Equal("months", read.DurationColumn);
        Assert.Equal([2.0, 4], read.Horizons);
        Assert.Equal("monthly", read.ValueColumn);
        Assert.Equal("churned", read.EventColumn);
        Assert.Equal(schema.Data.Features, read.Data.Features);
    }

    [Fact]
    public void HorizonsMustBePositiveAndAscending()
    {
        var ex = Assert.Throws<SchemaException>(() => (KnownHazard.Schema([3, 1, -2])).Validated());

        Assert.Contains("horizons[2]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ascending", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHorizonBeyondTheLongestDurationIsRefusedNamingTheColumn()
    {
        var data = KnownHazard.Load(300, 3);
        var late = new SurvivalData(data.Schema with { Horizons = [6, 24] }, data.Covariates, data.Durations, data.Events);

        var ex = Assert.Throws<ArgumentException>(() => SurvivalTrainer.Fit(late, new SurvivalOptions { Method = SurvivalMethod.Cox }));

        Assert.Contains("horizon 24", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'months'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADurationTrackingCovariateIsPointedOut()
    {
        var data = KnownHazard.Load(500, 4);
        var total = data.Durations.Select((d, i) => d * data.Covariates.Columns[2].Numbers![i]).ToArray();
        var schema = data.Schema with { Data = data.Schema.Data with { Features = [.. data.Schema.Data.Features, new FeatureSpec("total", FeatureKind.Numeric)] } };
        var columns = data.Covariates.Columns.Append(new FeatureColumn(new FeatureSpec("total", FeatureKind.Numeric), data.RowCount)).ToArray();
        total.CopyTo(columns[^1].Numbers!, 0);
        var withTotal = new SurvivalData(schema, new Dataset(schema.Data, columns, data.Covariates.Ids, data.Covariates.Labels, data.Covariates.Lines, ""), data.Durations, data.Events);

        var notes = DurationLeakage.Check(withTotal);

        Assert.Single(notes);
        Assert.Contains("'total'", notes[0], StringComparison.Ordinal);
    }
}
