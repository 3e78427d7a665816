using System.Buffers;
using System.Text;
using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Data.Predictions;

/// <summary>Reads the inputs of logged predictions (the JSON objects the predictor logs) back into datasets.</summary>
public static class LoggedInputs
{
    /// <summary>Rows parsed by one task: large enough to amortise its dictionaries, small enough to spread over the cores.</summary>
    private const int ChunkRows = 4096;

    /// <summary>
    /// Logged inputs back into a column-oriented dataset through the schema, as a CSV file would be read: each row's
    /// <c>InputsJson</c> is a JSON object of feature name to value. Numbers, booleans (1/0) and numeric text fill numeric
    /// columns (anything else is missing, NaN); strings fill categorical columns, other JSON values their raw text; null
    /// and absent features are missing; properties the schema does not name are ignored, and of a repeated name the last
    /// counts. Rows are parsed in parallel chunks with a streaming reader, and equal category texts share one string.
    /// </summary>
    /// <exception cref="JsonException">A row's <c>InputsJson</c> is not a JSON object.</exception>
    public static Dataset ToDataset(DatasetSchema schema, IReadOnlyList<(string? CustomerId, string InputsJson)> rows, bool[]? labels = null, string fingerprint = "prediction-log")
    {
        var columns = schema.Features.Select(f => new FeatureColumn(f, rows.Count)).ToArray();
        var names = schema.Features.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();
        var chunks = (rows.Count + ChunkRows - 1) / ChunkRows;
        try
        {
            Parallel.For(0, chunks, chunk =>
            {
                var parser = new RowParser(columns, names);
                var end = Math.Min(rows.Count, (chunk + 1) * ChunkRows);
                for (var r = chunk * ChunkRows; r < end; r++)
                {
                    parser.Parse(r, rows[r].InputsJson);
                }
                parser.Return();
            });
        }
        catch (AggregateException ex) when (ex.InnerExceptions[0] is JsonException first)
        {
            // The first bad row's own error, as a row-by-row reading would have thrown it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        var ids = new string?[rows.Count];
        for (var r = 0; r < ids.Length; r++)
        {
            ids[r] = rows[r].CustomerId;
        }
        return new Dataset(schema, columns, ids, labels, new long[rows.Count], fingerprint);
    }

    /// <summary>One task's parser: its UTF-8 buffer and, per categorical column, the category texts seen so far.</summary>
    private sealed class RowParser(FeatureColumn[] columns, byte[][] names)
    {
        private readonly Dictionary<string, string>?[] categories = new Dictionary<string, string>?[columns.Length];
        private byte[] utf8 = ArrayPool<byte>.Shared.Rent(4096);
        private char[] text = ArrayPool<char>.Shared.Rent(256);

        public void Parse(int row, string json)
        {
            foreach (var column in columns)
            {
                if (column.Numbers is { } n)
                {
                    n[row] = double.NaN;
                }
            }
            var length = Encoding.UTF8.GetMaxByteCount(json.Length);
            if (length > utf8.Length)
            {
                ArrayPool<byte>.Shared.Return(utf8);
                utf8 = ArrayPool<byte>.Shared.Rent(length);
            }
            var bytes = utf8.AsSpan(0, Encoding.UTF8.GetBytes(json, utf8));
            var reader = new Utf8JsonReader(bytes);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"A logged input is not a JSON object (row {row}).");
            }
            var expected = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var f = Find(ref reader, expected);
                reader.Read();
                if (f < 0)
                {
                    reader.Skip();
                    continue;
                }
                expected = f + 1;
                Store(ref reader, bytes, columns[f], f, row);
            }
        }

        /// <summary>The feature index a property name stands for, trying the next in schema order first (the predictor logs in that order); -1 when none.</summary>
        private int Find(ref Utf8JsonReader reader, int expected)
        {
            if (expected < names.Length && reader.ValueTextEquals(names[expected]))
            {
                return expected;
            }
            for (var f = 0; f < names.Length; f++)
            {
                if (reader.ValueTextEquals(names[f]))
                {
                    return f;
                }
            }
            return -1;
        }

        private void Store(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes, FeatureColumn column, int f, int row)
        {
            if (column.Categories is { } c)
            {
                c[row] = reader.TokenType switch
                {
                    JsonTokenType.String => Category(ref reader, f),
                    JsonTokenType.Null => null,
                    _ => RawText(ref reader, bytes),
                };
                return;
            }
            var raw = reader.TokenType switch
            {
                JsonTokenType.Number => FeatureValue.Of(reader.GetDouble()),
                JsonTokenType.True => FeatureValue.Of(1),
                JsonTokenType.False => FeatureValue.Of(0),
                JsonTokenType.String => FeatureValue.Of(reader.GetString()),
                _ => Skipped(ref reader),
            };
            column.Numbers![row] = ValueParser.TryNumberOf(column.Spec.Kind, raw, out var number) ? number : double.NaN;
        }

        /// <summary>The string value, shared with the equal values this parser has read before in the same column.</summary>
        private string Category(ref Utf8JsonReader reader, int f)
        {
            var most = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (most > text.Length)
            {
                ArrayPool<char>.Shared.Return(text);
                text = ArrayPool<char>.Shared.Rent(most);
            }
            var value = text.AsSpan(0, reader.CopyString(text));
            var seen = categories[f] ??= new Dictionary<string, string>(StringComparer.Ordinal);
            var lookup = seen.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(value, out var shared))
            {
                shared = value.ToString();
                seen[shared] = shared;
            }
            return shared;
        }

        /// <summary>The JSON text of a non-string value (a number, a boolean, an object or array), as written.</summary>
        private static string RawText(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes)
        {
            var start = (int)reader.TokenStartIndex;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
            return Encoding.UTF8.GetString(bytes[start..(int)reader.BytesConsumed]);
        }

        private static FeatureValue Skipped(ref Utf8JsonReader reader)
        {
            reader.Skip();
            return FeatureValue.Missing;
        }

        public void Return()
        {
            ArrayPool<byte>.Shared.Return(utf8);
            ArrayPool<char>.Shared.Return(text);
        }
    }
}
