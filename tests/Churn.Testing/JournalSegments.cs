using System.Globalization;
using System.Text;
using System.Text.Json;
using Churn.Data.Predictions;

namespace Churn.Testing;

/// <summary>
/// The prediction journal as a server leaves it on disk when it stops without draining: segment files in
/// <c>journal/&lt;instance&gt;/</c>, one JSON line per scored request, written as the journal writes them.
/// </summary>
public static class JournalSegments
{
    /// <summary>
    /// <paramref name="count"/> entries scored now by churn v1 with <paramref name="probability"/>, each with a new id and
    /// the customer id <paramref name="prefix"/> followed by its index.
    /// </summary>
    public static List<PredictionLogEntry> Entries(int count, string prefix, double probability = 0.5) =>
    [
        .. Enumerable.Range(0, count).Select(i => new PredictionLogEntry
        {
            Id = Guid.CreateVersion7(),
            Time = DateTimeOffset.UtcNow,
            ModelName = "churn",
            ModelVersion = 1,
            CustomerId = $"{prefix}{i}",
            Probability = probability,
        }),
    ];

    /// <summary>One entry as its journal line, without the line end (web JSON defaults, as the journal serialises).</summary>
    public static string Line(PredictionLogEntry entry) => JsonSerializer.Serialize(entry, JsonSerializerOptions.Web);

    /// <summary>The entries as journal lines, each ended by a newline.</summary>
    public static string Lines(IEnumerable<PredictionLogEntry> entries) => string.Concat(entries.Select(e => Line(e) + "\n"));

    /// <summary>Replica <paramref name="instance"/>'s journal folder in <paramref name="dataDir"/>, created if missing.</summary>
    public static string Folder(string dataDir, string instance)
    {
        var folder = Path.Combine(dataDir, "journal", instance);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// Writes <paramref name="text"/> (UTF-8, no byte-order mark) as the journal's <paramref name="sequence"/>th segment in
    /// <paramref name="folder"/>, named as the journal names them so segments replay in order; returns its path.
    /// </summary>
    public static async Task<string> WriteAsync(string folder, int sequence, string text)
    {
        var started = 20261129000000000L + ((sequence - 1) * 1000L);
        var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"segment-{started}-{sequence:D6}.jsonl"));
        await File.WriteAllTextAsync(path, text, new UTF8Encoding(false));
        return path;
    }
}
