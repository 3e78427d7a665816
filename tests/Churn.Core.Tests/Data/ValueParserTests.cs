using Churn.Core.Features;

namespace Churn.Core.Tests.Data;

public class ValueParserTests
{
    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("1.0", 1.0)]
    [InlineData("1.00", 1.0)]
    [InlineData("1e0", 1.0)]
    [InlineData(" 0.0 ", 0.0)]
    [InlineData("-0", 0.0)]
    [InlineData("0e5", 0.0)]
    [InlineData("TRUE", 1.0)]
    [InlineData("False", 0.0)]
    [InlineData("Yes", 1.0)]
    [InlineData("nO", 0.0)]
    [InlineData("Y", 1.0)]
    [InlineData("n", 0.0)]
    public void YesNoAcceptsWordsAnyCaseAndNumbersEqualToOneOrZero(string text, double expected)
    {
        Assert.True(ValueParser.TryBoolean(text, out var value));
        Assert.Equal(expected, value);
        Assert.True(ValueParser.TryBoolean(FeatureValue.Of(text), out value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0.5")]
    [InlineData("maybe")]
    [InlineData("Infinity")]
    [InlineData("None")]
    public void YesNoRefusesOtherValues(string text)
    {
        Assert.False(ValueParser.TryBoolean(text, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("NA")]
    [InlineData("n/a")]
    [InlineData("N/A")]
    [InlineData("#N/A")]
    [InlineData("<NA>")]
    [InlineData("null")]
    [InlineData("NULL")]
    [InlineData("NaN")]
    [InlineData(" nan ")]
    public void MissingMarkersAreMissingForEveryKind(string text)
    {
        Assert.True(ValueParser.IsMissingMarker(text));
        Assert.True(FeatureValue.Of(text).IsMissing);
        Assert.True(ValueParser.TryNumber(text, out var number));
        Assert.True(double.IsNaN(number));
        Assert.True(ValueParser.TryBoolean(text, out var flag));
        Assert.True(double.IsNaN(flag));
    }

    [Theory]
    [InlineData("None")]
    [InlineData("No internet service")]
    [InlineData("NAB")]
    [InlineData("North America")]
    public void CategoryWordsThatResembleMarkersStayValues(string text)
    {
        Assert.False(ValueParser.IsMissingMarker(text));
        Assert.Equal(text, FeatureValue.Of(text).Text);
    }

    [Fact]
    public void CanonicalFormTrimsAndComposes()
    {
        var decomposed = "Re\u0301gion "; // "Région" with a combining accent, as macOS writes names
        Assert.Equal("R\u00e9gion", ValueParser.Canonical(decomposed));
        Assert.Equal("plain", ValueParser.Canonical(" plain"));
    }

    [Fact]
    public void SchemaFindsFeaturesWhateverTheirNormalisation()
    {
        var schema = new DatasetSchema { LabelColumn = "c", PositiveLabel = "1", Features = [new("R\u00e9gion", FeatureKind.Categorical)] };

        Assert.Equal(0, schema.IndexOf("Re\u0301gion"));
        Assert.Equal(0, schema.IndexOf("R\u00e9gion"));
    }

    [Fact]
    public void EncoderMatchesCategoriesWhateverTheirNormalisation()
    {
        var encoder = new FeatureEncoder([new EncodedFeature { Name = "city", Kind = FeatureKind.Categorical, Offset = 0, Categories = ["Malm\u00f6", "Oslo"] }]);
        var slots = new float[encoder.Width];

        var outcome = encoder.Encode([FeatureValue.Of("Malmo\u0308")], slots);

        Assert.Equal(0, outcome.UnseenMask);
        Assert.Equal([1f, 0f, 0f], slots);
    }

    [Theory]
    [InlineData(FeatureKind.Numeric, "1.5", true, 1.5)]
    [InlineData(FeatureKind.Numeric, "yes", false, 0)]
    [InlineData(FeatureKind.Numeric, "NA", true, double.NaN)]
    [InlineData(FeatureKind.Boolean, "yes", true, 1)]
    [InlineData(FeatureKind.Boolean, "0.0", true, 0)]
    [InlineData(FeatureKind.Boolean, "1.5", false, 0)]
    public void AValueReadsAsTheNumberItsFeatureKindMakesOfIt(FeatureKind kind, string text, bool fits, double expected)
    {
        Assert.Equal(fits, ValueParser.TryNumberOf(kind, text, out var fromText));
        Assert.Equal(fits, ValueParser.TryNumberOf(kind, FeatureValue.Of(text), out var fromValue));
        if (fits)
        {
            Assert.Equal(expected, fromText);
            Assert.Equal(expected, fromValue);
        }
    }
}
