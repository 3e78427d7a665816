namespace Churn.Core.Data;

/// <summary>One raw feature value as it arrives: missing, a number or a text.</summary>
public readonly record struct FeatureValue
{
    private FeatureValue(double number, string? text, bool present)
    {
        Number = number;
        Text = text;
        IsPresent = present;
    }

    /// <summary>The missing value.</summary>
    public static FeatureValue Missing => default;

    /// <summary>A number.</summary>
    public static FeatureValue Of(double number) => new(number, null, true);

    /// <summary>
    /// A text (category, yes/no word or a number still in text form); blank text and missing markers such as NA
    /// (<see cref="ValueParser.IsMissingMarker"/>) are the missing value.
    /// </summary>
    public static FeatureValue Of(string? text) =>
        text is null || ValueParser.IsMissingMarker(text) ? Missing : new(double.NaN, text, true);

    public double Number { get; }
    public string? Text { get; }
    public bool IsPresent { get; }
    public bool IsMissing => !IsPresent;
    public bool IsText => Text is not null;

    public override string ToString() =>
        IsMissing ? "" : Text ?? Number.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// The one parser for raw values, used by every path that reads them: files, CSV bodies and uploads, JSON
/// bodies, the dashboard and the logged inputs. What it accepts is listed in docs/inputs.md.
/// </summary>
/// <remarks>
/// Missing: a blank cell, or one of the markers other tools write for a missing value (<see cref="IsMissingMarker"/>).
/// Numbers: invariant culture (a dot as the decimal mark, an optional exponent); NaN and infinities are not numbers.
/// Yes/no: yes/no, true/false, y/n, t/f in any case, and any number equal to 1 or 0 (so <c>1.0</c> and <c>0.0</c>
/// as pandas writes them).
/// </remarks>
public static class ValueParser
{
    // R and pandas write NA, SQL exports NULL, Excel #N/A, pandas <NA> and NaN. "None" is left out on purpose:
    // it is a real category in churn data ("no add-on service"), and treating it as missing would lose it.
    private static readonly string[] MissingMarkers = ["NA", "N/A", "#N/A", "<NA>", "NULL", "NaN"];

    // The first letters of the markers, in both cases: most short values ("Yes", "0", "DSL") are told apart by their first one.
    private static readonly System.Buffers.SearchValues<char> MarkerStarts =
        System.Buffers.SearchValues.Create(string.Concat(MissingMarkers.Select(m => $"{char.ToUpperInvariant(m[0])}{char.ToLowerInvariant(m[0])}")));

    /// <summary>
    /// Whether a text means "no value": blank, or (trimmed, any case) NA, N/A, #N/A, &lt;NA&gt;, NULL or NaN.
    /// </summary>
    public static bool IsMissingMarker(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        if (text.IsEmpty)
        {
            return true;
        }
        if (text.Length > 4 || !MarkerStarts.Contains(text[0]))
        {
            return false;
        }
        foreach (var marker in MissingMarkers)
        {
            if (text.Equals(marker, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A column name or category value in the form it is compared in: trimmed and in Unicode normalisation form C,
    /// so a name saved decomposed (NFD, as macOS file names and some exports do) matches its composed spelling.
    /// </summary>
    public static string Canonical(string text)
    {
        var trimmed = text.Trim();
        // ASCII text is already in every normalisation form; only other text pays for the check. The runtime's own
        // string.Normalize does nothing under invariant globalization, hence ICU4N.
        return System.Text.Ascii.IsValid(trimmed) ? trimmed : Composed.Nfc(trimmed);
    }

    /// <summary>
    /// NFC through ICU4N, in a class of its own so the library and its data load on the first non-ASCII text, not with
    /// every process that reads a value (about 3 MB of mapped images for nothing on all-ASCII data).
    /// </summary>
    private static class Composed
    {
        private static readonly ICU4N.Text.Normalizer2 Normalizer = ICU4N.Text.Normalizer2.NFCInstance;

        public static string Nfc(string text) => Normalizer.IsNormalized(text) ? text : Normalizer.Normalize(text);
    }

    /// <summary>Parses a numeric value (invariant culture); false when it is not a finite number. Missing reads as NaN (true).</summary>
    public static bool TryNumber(FeatureValue value, out double number) =>
        TryRead(value, double.IsFinite, TryNumber, out number);

    /// <summary>
    /// Parses numeric text (invariant culture, exponent allowed); a blank or missing marker reads as NaN (true);
    /// anything else that is not a finite number (including Infinity) is refused.
    /// </summary>
    public static bool TryNumber(ReadOnlySpan<char> text, out double number)
    {
        text = text.Trim();
        if (IsMissingMarker(text))
        {
            number = double.NaN;
            return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
    }

    /// <summary>Parses a yes/no value to 1/0 (NaN when missing); false when it is not a yes/no value.</summary>
    public static bool TryBoolean(FeatureValue value, out double number) =>
        TryRead(value, static n => n is 0 or 1, TryBoolean, out number);

    private delegate bool TextParser(ReadOnlySpan<char> text, out double number);

    // A value reads the same way whatever its type: missing is NaN, a number stands if the type accepts it, and a text
    // goes through the type's text parser.
    private static bool TryRead(FeatureValue value, Func<double, bool> accepts, TextParser parseText, out double number)
    {
        if (value.IsMissing)
        {
            number = double.NaN;
            return true;
        }
        if (!value.IsText)
        {
            number = value.Number;
            return accepts(number);
        }
        return parseText(value.Text, out number);
    }

    /// <summary>
    /// Yes/no text: yes/no, true/false, y/n, t/f (any case), or numeric text equal to 1 or 0 (<c>1</c>, <c>1.0</c>,
    /// <c>1e0</c>, <c>0.00</c>). A blank or missing marker reads as NaN (true).
    /// </summary>
    public static bool TryBoolean(ReadOnlySpan<char> text, out double number)
    {
        text = text.Trim();
        number = double.NaN;
        if (IsMissingMarker(text))
        {
            return true;
        }
        if (text.Equals("yes", StringComparison.OrdinalIgnoreCase) || text.Equals("true", StringComparison.OrdinalIgnoreCase)
            || text.Equals("y", StringComparison.OrdinalIgnoreCase) || text.Equals("t", StringComparison.OrdinalIgnoreCase))
        {
            number = 1;
            return true;
        }
        if (text.Equals("no", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase)
            || text.Equals("n", StringComparison.OrdinalIgnoreCase) || text.Equals("f", StringComparison.OrdinalIgnoreCase))
        {
            number = 0;
            return true;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n is 0 or 1)
        {
            number = n;
            return true;
        }
        return false;
    }

    /// <summary>True for present values the yes/no parser accepts (not for blanks or missing markers).</summary>
    public static bool IsBooleanWord(string text) => TryBoolean(text, out var n) && !double.IsNaN(n);

    /// <summary>
    /// The number a numeric or yes/no feature's value stands for: <see cref="FeatureKind.Boolean"/> values are read by
    /// <see cref="TryBoolean(FeatureValue, out double)"/> (1/0), any other kind by <see cref="TryNumber(FeatureValue, out double)"/>.
    /// Missing reads as NaN (true); false when the value does not fit the kind.
    /// </summary>
    public static bool TryNumberOf(FeatureKind kind, FeatureValue value, out double number) =>
        kind == FeatureKind.Boolean ? TryBoolean(value, out number) : TryNumber(value, out number);

    /// <summary>The same as <see cref="TryNumberOf(FeatureKind, FeatureValue, out double)"/> for a value still in text form.</summary>
    public static bool TryNumberOf(FeatureKind kind, ReadOnlySpan<char> text, out double number) =>
        kind == FeatureKind.Boolean ? TryBoolean(text, out number) : TryNumber(text, out number);
}
