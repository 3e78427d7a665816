using Npgsql;

namespace Churn.Scale.Tests;

/// <summary>A replica that never comes back: its journal and spill are adopted by one live replica and replayed once.</summary>
[Collection(ScaleCollection.Name)]
public sealed class OrphanedJournalTests(ScaleFixture deployment, ITestOutputHelper output)
{
    [Fact]
    public async Task TheJournalAndSpillOfAReplicaUnseenForLongerThanTheLimitAreReplayedOnceByOneLiveReplicaAndItsJobsFailed()
    {
        const string gone = "replica-gone";
        var prefix = $"orphan-{Guid.NewGuid():N}"[..15] + "-";
        var entries = JournalSegments.Entries(60, prefix, probability: 0.25);

        // What a replica killed for good leaves: two journal segments, and a spill file holding some of the same entries
        // (spilled, then the process died before its journal was trimmed) besides ones of its own.
        var journal = JournalSegments.Folder(deployment.DataDir, gone);
        var spill = Path.Combine(deployment.DataDir, "spill", gone);
        Directory.CreateDirectory(spill);
        await JournalSegments.WriteAsync(journal, 1, JournalSegments.Lines(entries.Take(30)));
        await JournalSegments.WriteAsync(journal, 2, JournalSegments.Lines(entries.Skip(30).Take(20)));
        await File.WriteAllTextAsync(Path.Combine(spill, "predictions.jsonl"), JournalSegments.Lines(entries.Skip(40)), Encoding.UTF8);
        await File.WriteAllBytesAsync(Path.Combine(journal, "heartbeat"), []);
        var job = Guid.CreateVersion7();
        await using (var connection = new NpgsqlConnection(deployment.Postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO jobs ("Id", "Kind", "Status", "Progress", "RowsDone", "CreatedBy", "Instance", "CreatedAt", "StartedAt", "UpdatedAt")
                VALUES (@id, 'score', 'Running', 0.5, 100, 'orphan-test', @instance, now() - interval '2 hours', now() - interval '2 hours', now() - interval '2 hours')
                """, connection);
            insert.Parameters.AddWithValue("id", job);
            insert.Parameters.AddWithValue("instance", gone);
            await insert.ExecuteNonQueryAsync();
        }
        // Last seen two hours ago: longer than the replicas' limit (Churn:OrphanedJournalAfter, 10 minutes by default).
        var longAgo = DateTime.UtcNow.AddHours(-2);
        foreach (var file in Directory.EnumerateFiles(journal))
        {
            File.SetLastWriteTimeUtc(file, longAgo);
        }
        Directory.SetLastWriteTimeUtc(journal, longAgo);

        var ids = entries.Select(e => e.Id).ToHashSet();
        await deployment.WaitUntilAsync(async () => (await deployment.Postgres.LoggedIdsAsync(prefix)).SetEquals(ids) && !Directory.Exists(journal),
            TimeSpan.FromSeconds(120), $"the {ids.Count} orphaned entries in the store and the orphan's folder gone");

        // Once each: no duplicate rows, and one replica adopted the folder.
        Assert.Equal(ids.Count, await deployment.Postgres.ScalarAsync($"""SELECT COUNT(*) FROM prediction_log WHERE "CustomerId" LIKE '{prefix}%'"""));
        Assert.False(Directory.Exists(spill));
        var adopters = new[] { deployment.A, deployment.B }.Where(r => r.Output.Contains($"Adopted the prediction journal of replica {gone}", StringComparison.Ordinal)).ToList();
        Assert.Single(adopters);
        await deployment.WaitUntilAsync(async () => await deployment.Postgres.ScalarAsync($"""SELECT COUNT(*) FROM jobs WHERE "Id" = '{job}' AND "Status" = 'Failed'""") == 1,
            TimeSpan.FromSeconds(30), "the orphan's running job marked failed");
        output.WriteLine($"{ids.Count} distinct entries in 3 files (10 in two of them) adopted by {adopters[0].InstanceId}: {ids.Count} rows, 0 duplicates; its running job failed.");
    }
}
