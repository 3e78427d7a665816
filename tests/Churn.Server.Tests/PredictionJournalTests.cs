using System.Diagnostics.Metrics;
using Churn.Data.Predictions;
using Churn.Server.Hosting;
using Churn.Server.Predictions;
using Churn.Server.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Churn.Server.Tests;

/// <summary>The per-instance write-ahead journal of the prediction log, on real files (the multi-process kill is in Churn.Scale.Tests).</summary>
public sealed class PredictionJournalTests : IDisposable
{
    private readonly TempDirectory dataDir = new("churn-journal");
    private readonly IOptions<ServerOptions> options;
    private readonly PredictionSpill spill;

    public PredictionJournalTests()
    {
        options = Options.Create(new ServerOptions { DataDir = dataDir.Path, InstanceId = "replica-1" });
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        spill = new PredictionSpill(options, new ServerMetrics(meters), Microsoft.Extensions.Logging.Abstractions.NullLogger<PredictionSpill>.Instance);
    }

    [Fact]
    public async Task UnderGroupCommitEveryWaitEndsOnlyOnceItsLineIsOnDiskAndALoneRequestSyncsItselfAtOnce()
    {
        var journal = new PredictionJournal(Options.Create(new ServerOptions { DataDir = dataDir.Path, InstanceId = "replica-1", PredictionJournalFlush = JournalFlush.GroupCommit }),
            spill, NullLogger<PredictionJournal>.Instance);
        journal.Open();
        try
        {
            // A lone request under light load runs the round itself: its wait is over when the call returns.
            var lone = PredictionJournal.Cover();
            Assert.Equal(1, journal.TryAppend(Entries(1), _ => true));
            var wait = journal.WaitCoveredAsync(lone);
            Assert.True(wait.IsCompletedSuccessfully);
            Assert.True(journal.DurableLines >= lone.Line);

            // Many requests at once: whoever syncs, no wait ends before the line it waits for is durable.
            var early = 0;
            await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
            {
                var covered = PredictionJournal.Cover();
                journal.TryAppend(Entries(1 + (i % 3)), _ => true);
                await journal.WaitCoveredAsync(covered);
                if (journal.DurableLines < covered.Line)
                {
                    Interlocked.Increment(ref early);
                }
            })));
            Assert.Equal(0, early);

            // Lines appended in a flow whose response already started (the lone request's coverage is closed), or by a
            // request that ended without a response, are still made durable by the committer.
            journal.TryAppend(Entries(2), _ => true);
            await Wait.UntilAsync(() => Task.FromResult(journal.DurableLines == journal.AppendedLines), TimeSpan.FromSeconds(10), "the unawaited lines to be fsynced");
            var aborted = PredictionJournal.Cover();
            journal.TryAppend(Entries(2), _ => true);
            journal.Release(aborted);
            await Wait.UntilAsync(() => Task.FromResult(journal.DurableLines == journal.AppendedLines), TimeSpan.FromSeconds(10), "the unawaited lines to be fsynced");
        }
        finally
        {
            journal.Close();
        }
    }

    [Fact]
    public void ALoneClientSendingLargeBatchesIsLightLoadAndSyncsEachItselfWithoutWaitingForTheCommitInterval()
    {
        // The load that decides whether a round waits to gather others is counted in writes (one per request), not in
        // lines: one client's 1,000-prediction batches, a few milliseconds apart, are thousands of lines a second but
        // nobody to gather, and each must be synced at once by its own request.
        var journal = new PredictionJournal(Options.Create(new ServerOptions
        {
            DataDir = dataDir.Path,
            InstanceId = "replica-1",
            PredictionJournalFlush = JournalFlush.GroupCommit,
            PredictionJournalCommitInterval = TimeSpan.FromSeconds(1),
        }), spill, NullLogger<PredictionJournal>.Instance);
        journal.Open();
        try
        {
            var batch = Entries(1000);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // Several of the journal's 200 ms rate windows, so the rate has been measured more than once.
            for (var i = 0; i < 10 || clock.Elapsed < TimeSpan.FromMilliseconds(800); i++)
            {
                var covered = PredictionJournal.Cover();
                Assert.Equal(batch.Count, journal.TryAppend(batch, _ => true));
                var wait = journal.WaitCoveredAsync(covered);
                Assert.True(wait.IsCompletedSuccessfully, $"batch {i} was left to the committer");
                Assert.True(journal.DurableLines >= covered.Line);
                // The rest of a request's work between two batches.
                Thread.Sleep(5);
            }
        }
        finally
        {
            journal.Close();
        }
    }

    [Fact]
    public void EntriesJournaledButNotYetStoredAreHandedToTheSpillAtTheNextStartWithTheSameInstanceId()
    {
        var stored = Entries(3);
        var pending = Entries(2);
        var first = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        first.Open();
        Assert.All(stored, e => Assert.Equal(1, first.TryAppend([e], _ => true)));
        first.Stored(3);
        Assert.All(pending, e => Assert.Equal(1, first.TryAppend([e], _ => true)));
        // What a killed process leaves: the folder lock goes with the process, the unstored entries stay on disk.
        first.Close();

        var next = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        Assert.Equal(1, next.Open());
        var replayed = spill.TakeForReplay().SelectMany(PredictionSpill.Read).Select(e => e.Id).ToList();
        Assert.Equal(pending.Select(e => e.Id), replayed);
        next.Close();
    }

    [Fact]
    public void ARequestsEntriesAreJournaledUpToTheFirstOneTheBufferRefusesAndRehearsalsAreNeverWritten()
    {
        var entries = Entries(5);
        entries[1].Rehearsal = true;
        var journal = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        journal.Open();
        var offered = 0;
        // The buffer takes three, then is full: the fourth and fifth are neither buffered nor journaled.
        Assert.Equal(3, journal.TryAppend(entries, _ => ++offered <= 3));
        journal.Close();

        var next = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        Assert.Equal(1, next.Open());
        var replayed = spill.TakeForReplay().SelectMany(PredictionSpill.Read).Select(e => e.Id).ToList();
        Assert.Equal([entries[0].Id, entries[2].Id], replayed);
        next.Close();
    }

    [Fact]
    public void AnEntryTheBufferRefusesIsNotJournaledAndACleanCloseLeavesNoSegment()
    {
        var journal = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        journal.Open();
        Assert.Equal(0, journal.TryAppend(Entries(1), _ => false));
        Assert.Equal(1, journal.TryAppend(Entries(1), _ => true));
        journal.Stored(1);
        journal.Close();

        Assert.Empty(Directory.EnumerateFiles(journal.Directory, "segment-*"));
        Assert.Equal(0, new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance).Open());
    }

    [Fact]
    public void TwoLiveProcessesWithOneInstanceIdAreRefusedWithAMessageNamingTheSetting()
    {
        var first = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
        first.Open();
        try
        {
            var second = new PredictionJournal(options, spill, NullLogger<PredictionJournal>.Instance);
            var refused = Assert.Throws<InvalidOperationException>(() => second.Open());
            Assert.Contains("Churn__InstanceId", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            first.Close();
        }
    }

    public void Dispose() => dataDir.Dispose();

    private static List<PredictionLogEntry> Entries(int count) => JournalSegments.Entries(count, "journal-");
}
