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
    /// <exception cref="JsonException">A row's <c>InputsJson</c> is not a JSON object (the first such row's error).</exception>
    public static Dataset ToDataset(DatasetSchema schema, IReadOnlyList<(string? CustomerId, string InputsJson)> rows, bool[]? labels = null, string fingerprint = "prediction-log")
    {
        var builder = new Builder(schema);
        foreach (var (customerId, inputsJson) in rows)
        {
            builder.Add(customerId, inputsJson);
        }
        return builder.Build(labels, fingerprint);
    }

    /// <summary>
    /// Builds the dataset of <see cref="ToDataset"/> from rows that arrive one at a time, as they are read from the store:
    /// every <see cref="ChunkRows"/> rows are parsed on another core while the next ones are read, and a row's text is
    /// not kept once its chunk is parsed. Not thread-safe: one reader adds.
    /// </summary>
    public sealed class Builder(DatasetSchema schema)
    {
        private readonly byte[][] names = [.. schema.Features.Select(f => Encoding.UTF8.GetBytes(f.Name))];
        private readonly List<(Task<FeatureColumn[]> Columns, int Rows)> chunks = [];
        private readonly List<string?> ids = [];
        // The chunk being filled: its rows' texts as UTF-8, one after another, and where each ends. The strings read from
        // the store so die young; a chunk's bytes go back to the pool once it is parsed.
        private byte[] pending = ArrayPool<byte>.Shared.Rent(ChunkRows * 1024);
        private int[] ends = new int[ChunkRows];
        private int pendingCount;

        /// <summary>Rows added so far.</summary>
        public int Count => ids.Count;

        /// <summary>Adds one row: its customer id and its logged <c>InputsJson</c>.</summary>
        public void Add(string? customerId, string inputsJson)
        {
            var start = Reserve(Encoding.UTF8.GetMaxByteCount(inputsJson.Length));
            Added(customerId, start + Encoding.UTF8.GetBytes(inputsJson, pending.AsSpan(start)));
        }

        /// <summary>Adds one row whose logged <c>InputsJson</c> is still the UTF-8 bytes the store holds; they are copied.</summary>
        public void Add(string? customerId, ReadOnlySpan<byte> inputsJsonUtf8)
        {
            var start = Reserve(inputsJsonUtf8.Length);
            inputsJsonUtf8.CopyTo(pending.AsSpan(start));
            Added(customerId, start + inputsJsonUtf8.Length);
        }

        /// <summary>Makes room for <paramref name="bytes"/> more in the chunk being filled; returns where they go.</summary>
        private int Reserve(int bytes)
        {
            var start = pendingCount == 0 ? 0 : ends[pendingCount - 1];
            if (start + bytes > pending.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(pending.Length * 2, start + bytes));
                pending.AsSpan(0, start).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(pending);
                pending = larger;
            }
            return start;
        }

        private void Added(string? customerId, int end)
        {
            ids.Add(customerId);
            ends[pendingCount++] = end;
            if (pendingCount == ChunkRows)
            {
                Dispatch();
            }
        }

        private void Dispatch()
        {
            var (texts, rowEnds, count) = (pending, ends, pendingCount);
            var offset = ids.Count - count;
            chunks.Add((Task.Run(() => Parse(texts, rowEnds, count, offset)), count));
            pending = ArrayPool<byte>.Shared.Rent(texts.Length);
            ends = new int[ChunkRows];
            pendingCount = 0;
        }

        private FeatureColumn[] Parse(byte[] texts, int[] rowEnds, int count, int offset)
        {
            var columns = schema.Features.Select(f => new FeatureColumn(f, count)).ToArray();
            var parser = new RowParser(columns, names, offset);
            try
            {
                for (var r = 0; r < count; r++)
                {
                    var start = r == 0 ? 0 : rowEnds[r - 1];
                    parser.Parse(r, texts.AsSpan(start, rowEnds[r] - start));
                }
            }
            finally
            {
                parser.Return();
                ArrayPool<byte>.Shared.Return(texts);
            }
            return columns;
        }

        /// <summary>Waits for the chunks still being parsed and joins them into one dataset, rows in the order added.</summary>
        /// <exception cref="JsonException">A row's <c>InputsJson</c> is not a JSON object (the first such row's error).</exception>
        public Dataset Build(bool[]? labels = null, string fingerprint = "prediction-log")
        {
            if (pendingCount > 0)
            {
                Dispatch();
            }
            ArrayPool<byte>.Shared.Return(pending);
            pending = [];
            var columns = schema.Features.Select(f => new FeatureColumn(f, ids.Count)).ToArray();
            var at = 0;
            foreach (var (chunk, rows) in chunks)
            {
                // In order: the first chunk that failed holds the first bad row, whose own error is thrown.
                var parsed = chunk.GetAwaiter().GetResult();
                for (var f = 0; f < columns.Length; f++)
                {
                    if (columns[f].Numbers is { } numbers)
                    {
                        parsed[f].Numbers!.CopyTo(numbers, at);
                    }
                    else
                    {
                        parsed[f].Categories!.CopyTo(columns[f].Categories!, at);
                    }
                }
                at += rows;
            }
            return new Dataset(schema, columns, [.. ids], labels, new long[ids.Count], fingerprint);
        }
    }

    /// <summary>
    /// One task's parser: per categorical column, the category texts seen so far, and the first
    /// <see cref="FewLevels"/> of them as the UTF-8 bytes they are logged as.
    /// </summary>
    private sealed class RowParser(FeatureColumn[] columns, byte[][] names, int rowOffset)
    {
        /// <summary>
        /// Levels per column matched on their logged bytes, before a text is decoded and hashed: a churn feature's
        /// categories are few, and comparing a value's bytes with each of them is cheaper than decoding it.
        /// </summary>
        private const int FewLevels = 16;

        private readonly Dictionary<string, string>?[] categories = new Dictionary<string, string>?[columns.Length];
        private readonly List<(byte[] Utf8, string Text)>?[] levels = new List<(byte[] Utf8, string Text)>?[columns.Length];
        private char[] text = ArrayPool<char>.Shared.Rent(256);

        /// <summary>Parses one row's logged inputs, as UTF-8, into row <paramref name="row"/> of the columns.</summary>
        public void Parse(int row, ReadOnlySpan<byte> bytes)
        {
            foreach (var column in columns)
            {
                if (column.Numbers is { } n)
                {
                    n[row] = double.NaN;
                }
            }
            var reader = new Utf8JsonReader(bytes);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"A logged input is not a JSON object (row {rowOffset + row}).");
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
            var known = levels[f] ??= [];
            var plain = !reader.ValueIsEscaped && !reader.HasValueSequence;
            if (plain)
            {
                var utf8 = reader.ValueSpan;
                foreach (var (bytes, level) in known)
                {
                    if (utf8.SequenceEqual(bytes))
                    {
                        return level;
                    }
                }
            }
            var shared = Decoded(ref reader, f);
            if (plain && known.Count < FewLevels)
            {
                known.Add((reader.ValueSpan.ToArray(), shared));
            }
            return shared;
        }

        private string Decoded(ref Utf8JsonReader reader, int f)
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

        public void Return() => ArrayPool<char>.Shared.Return(text);
    }
}
