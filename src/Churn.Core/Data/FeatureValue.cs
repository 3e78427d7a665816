using System.Globalization;

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

    /// <summary>A text (category, boolean word or a number still in text form).</summary>
    public static FeatureValue Of(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Missing : new(double.NaN, text, true);

    public double Number { get; }
    public string? Text { get; }
    public bool IsPresent { get; }
    public bool IsMissing => !IsPresent;
    public bool IsText => Text is not null;

    public override string ToString() =>
        IsMissing ? "" : Text ?? Number.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Reads raw values as numbers and booleans the same way everywhere (files, API, dashboard).</summary>
public static class ValueParser
{
    /// <summary>Parses a numeric cell (invariant culture); false when it is not a finite number.</summary>
    public static bool TryNumber(FeatureValue value, out double number)
    {
        if (value.IsMissing)
        {
            number = double.NaN;
            return true;
        }
        if (!value.IsText)
        {
            number = value.Number;
            return double.IsFinite(number);
        }
        return TryNumber(value.Text, out number);
    }

    /// <summary>Parses numeric text; blank is missing (NaN, true); NaN/Infinity text is refused.</summary>
    public static bool TryNumber(ReadOnlySpan<char> text, out double number)
    {
        text = text.Trim();
        if (text.IsEmpty)
        {
            number = double.NaN;
            return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
    }

    /// <summary>Parses a yes/no cell to 1/0 (NaN when missing); false when it is not a boolean word.</summary>
    public static bool TryBoolean(FeatureValue value, out double number)
    {
        if (value.IsMissing)
        {
            number = double.NaN;
            return true;
        }
        if (!value.IsText)
        {
            number = value.Number;
            return number is 0 or 1;
        }
        return TryBoolean(value.Text, out number);
    }

    /// <summary>Boolean words: yes/no, true/false, y/n, t/f, 1/0 (case-insensitive).</summary>
    public static bool TryBoolean(ReadOnlySpan<char> text, out double number)
    {
        text = text.Trim();
        number = double.NaN;
        if (text.IsEmpty)
        {
            return true;
        }
        if (text.Equals("yes", StringComparison.OrdinalIgnoreCase) || text.Equals("true", StringComparison.OrdinalIgnoreCase)
            || text.Equals("y", StringComparison.OrdinalIgnoreCase) || text.Equals("t", StringComparison.OrdinalIgnoreCase) || text is "1")
        {
            number = 1;
            return true;
        }
        if (text.Equals("no", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase)
            || text.Equals("n", StringComparison.OrdinalIgnoreCase) || text.Equals("f", StringComparison.OrdinalIgnoreCase) || text is "0")
        {
            number = 0;
            return true;
        }
        return false;
    }

    /// <summary>True for words the boolean parser accepts.</summary>
    public static bool IsBooleanWord(string text) => TryBoolean(text, out var n) && !double.IsNaN(n);
}
