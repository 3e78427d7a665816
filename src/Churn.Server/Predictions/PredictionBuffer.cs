using System.Threading.Channels;
using Churn.Data.Predictions;

namespace Churn.Server.Predictions;

/// <summary>
/// The bounded buffer between requests and the prediction log in the store (written by <see cref="PredictionFlushJob"/>). Appending never blocks a request: when the buffer is full
/// (the store is slow) or closed (shutdown has begun) the entry goes straight to the spill file instead. A buffered
/// entry is journaled first (<see cref="PredictionJournal"/>), so it survives a killed process.
/// </summary>
public sealed class PredictionBuffer(IOptions<ServerOptions> options, PredictionSpill spill, PredictionJournal journal)
{
    private readonly Channel<PredictionLogEntry> channel = Channel.CreateBounded<PredictionLogEntry>(
        new BoundedChannelOptions(options.Value.PredictionLogCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ChannelReader<PredictionLogEntry> Reader => channel.Reader;

    /// <summary>Appends the entries of one request in order; their journal lines go to the OS in one write.</summary>
    public void Append(IReadOnlyList<PredictionLogEntry> entries)
    {
        var taken = journal.TryAppend(entries, channel.Writer.TryWrite);
        if (taken < entries.Count)
        {
            // When the spill file cannot be written either (disk full) the entries are lost; the spill has counted and
            // reported them, and the request is still answered.
            var refused = entries.Skip(taken).Where(e => !e.Rehearsal).ToList();
            if (refused.Count > 0)
            {
                spill.Append(refused);
            }
        }
    }

    /// <summary>No more entries will be buffered; the writer drains what is left and stops.</summary>
    public void Complete() => channel.Writer.TryComplete();
}
