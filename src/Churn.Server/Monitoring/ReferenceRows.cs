using Churn.Core.Data;
using Churn.Core.Segments;
using Churn.Data.Retraining;
using Churn.Server.Models;

namespace Churn.Server.Monitoring;

/// <summary>One segment's reference: its rows in the champion's reference data and their per-feature profile.</summary>
public sealed record SegmentReference(string Segment, int Rows, IReadOnlyList<FeatureProfile> Profile);

/// <summary>
/// The champion's reference data as rows, for the checks a per-feature profile in the model card cannot serve: a
/// segment needs the reference rows of that segment only. Read from the same file a retraining starts from (the
/// champion's own training file, else the sample generated at first start) once per champion version and kept.
/// </summary>
public sealed class ReferenceRows(IOptions<ServerOptions> options, ILogger<ReferenceRows> log)
{
    private readonly Lock gate = new();
    private (string Name, int Version, Dataset? Data)? loaded;
    private readonly Dictionary<string, IReadOnlyDictionary<string, SegmentReference>> segments = new(StringComparer.Ordinal);

    /// <summary>The champion's reference rows, or null (logged once) when its reference file is not in the data directory.</summary>
    public Dataset? For(ServingModel model)
    {
        lock (gate)
        {
            if (loaded is { } l && l.Name == model.Name && l.Version == model.Version)
            {
                return l.Data;
            }
            var o = options.Value;
            var firstSample = new GeneratedSample(o.SampleRows, o.SampleSeed, 0).PathIn(o.DataDir);
            var path = Retrainer.FindReference(o.DataDir, model.Card) ?? Retrainer.FindReference(o.DataDir, model.Card, firstSample);
            Dataset? data = null;
            if (path is null)
            {
                log.LogWarning("No reference rows for {Model} v{Version}: its training file '{Source}' is not in the data directory; segments are not checked.",
                    model.Name, model.Version, model.Card.DataSource);
            }
            else
            {
                try
                {
                    data = DatasetLoader.Load(path, model.Schema, LabelRequirement.Optional);
                }
                catch (Exception ex) when (ex is IOException or FormatException or CsvFormatException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
                {
                    // An unreadable reference costs the segment and joint checks, not the whole monitoring check.
                    log.LogWarning(ex, "Could not read the reference rows of {Model} v{Version} from {Path}; segments and the domain classifier are not checked.",
                        model.Name, model.Version, path);
                }
            }
            loaded = (model.Name, model.Version, data);
            segments.Clear();
            return data;
        }
    }

    /// <summary>
    /// The reference of every segment of <paramref name="columns"/> that the reference rows hold, by segment key; empty
    /// when there are no reference rows.
    /// </summary>
    /// <exception cref="ArgumentException">A segment column is not in the model's schema or its band edges do not fit its kind.</exception>
    public IReadOnlyDictionary<string, SegmentReference> Segments(ServingModel model, IReadOnlyList<SegmentColumn> columns)
    {
        var data = For(model);
        if (data is null || columns.Count == 0)
        {
            return new Dictionary<string, SegmentReference>();
        }
        var cacheKey = string.Join(";", columns.Select(c => c.Column + ":" + string.Join(",", c.Edges)));
        lock (gate)
        {
            if (segments.TryGetValue(cacheKey, out var cached))
            {
                return cached;
            }
        }
        var result = new Dictionary<string, SegmentReference>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            var keys = column.Assign(data);
            foreach (var group in Enumerable.Range(0, keys.Length).Where(r => keys[r] is not null).GroupBy(r => keys[r]!))
            {
                var rows = group.ToList();
                result[group.Key] = new SegmentReference(group.Key, rows.Count, ReferenceProfiler.Profile(data.Select(rows)));
            }
        }
        lock (gate)
        {
            segments[cacheKey] = result;
        }
        return result;
    }
}
