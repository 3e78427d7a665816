using System.Buffers;

namespace Churn.Core.Data;

/// <summary>Writes CSV rows as RFC 4180 asks, with LF line endings on every platform.</summary>
public static class CsvText
{
    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");

    /// <summary>Writes the cells separated by commas and ends the line with a single LF.</summary>
    public static void WriteRow(TextWriter writer, IReadOnlyList<string> cells)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }
            WriteCell(writer, cells[i]);
        }
        // TextWriter.WriteLine would use the platform's newline, and the output must be byte-identical everywhere.
        writer.Write('\n');
    }

    /// <summary>Writes one cell, quoted (with quotes doubled) only when it holds a comma, quote or line break.</summary>
    public static void WriteCell(TextWriter writer, string cell)
    {
        if (cell.AsSpan().IndexOfAny(NeedsQuoting) < 0)
        {
            writer.Write(cell);
            return;
        }
        writer.Write('"');
        writer.Write(cell.Replace("\"", "\"\"", StringComparison.Ordinal));
        writer.Write('"');
    }

    /// <summary>
    /// A cell of a result file built from input the user supplied: quoted when needed, and guarded
    /// against spreadsheet formula injection (a leading =, +, - or @ makes spreadsheets evaluate the
    /// cell; a quote mark keeps it text). Numbers are left alone.
    /// </summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(NeedsQuoting) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
