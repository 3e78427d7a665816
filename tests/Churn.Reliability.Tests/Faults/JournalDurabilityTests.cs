using Churn.Data.Predictions;

namespace Churn.Reliability.Tests.Faults;

/// <summary>The prediction journal as a crash or a power cut leaves it, and its fsync policy in a running server.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class JournalDurabilityTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Theory]
    [InlineData("GroupCommit")]
    [InlineData("EveryWrite")]
    public async Task AJournalWhoseLastLineWasTornIsReplayedWithAWarningAndTheServerServesUnderTheFsyncPolicy(string policy)
    {
        // What a crash mid-write leaves: whole lines, then half of one (and, after a power cut, zeros).
        var whole = JournalSegments.Entries(3, "torn-");
        var torn = JournalSegments.Line(new PredictionLogEntry { Id = Guid.CreateVersion7(), ModelName = "churn", CustomerId = "torn-cut" });
        await JournalSegments.WriteAsync(JournalSegments.Folder(DataDir, ServerProcess.InstanceId), 1,
            JournalSegments.Lines(whole) + torn[..(torn.Length / 2)] + "\0\0\0\0");

        await using var server = await ServerProcess.StartAsync(DataDir, new Dictionary<string, string> { ["Churn:PredictionJournalFlush"] = policy });
        await Wait.UntilAsync(async () => await LocalStore.CountLoggedAsync(DataDir, [.. whole.Select(e => e.Id)]) == whole.Count,
            TimeSpan.FromSeconds(60), "the whole journal lines to be replayed");
        await Wait.UntilAsync(() => Task.FromResult(server.Output.Contains("Skipped 1 unreadable line", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "a warning about the torn line");

        using var client = server.Client();
        var answered = new List<Guid>();
        for (var b = 0; b < 5; b++)
        {
            answered.AddRange(await PredictionTraffic.PredictBatchAsync(client, $"{policy}-{b}", 20));
        }
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);
        await Wait.UntilAsync(async () => await LocalStore.CountLoggedAsync(DataDir, answered) == answered.Count,
            TimeSpan.FromSeconds(60), "the answered predictions to be logged");
        output.WriteLine($"{policy}: {whole.Count} whole lines replayed, 1 torn line skipped with a warning, {answered.Count} predictions answered and logged.");
    }
}
