namespace Churn.Reliability.Tests.Faults;

/// <summary>
/// SIGKILL while the prediction log is being flushed: every prediction answered with 200 must be in the store after a
/// restart. This needs the log to be durable before the response leaves (a write-ahead journal replayed at start).
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LogFlushKillTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Fact]
    public async Task NoAcceptedPredictionIsLostWhenTheServerIsKilledWhileFlushingItsLog()
    {
        var accepted = new List<Guid>();
        await using (var server = await ServerProcess.StartAsync(DataDir))
        {
            using var service = server.Client();
            for (var round = 0; round < 10; round++)
            {
                var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(b => PredictionTraffic.PredictBatchAsync(service, $"flush-{round}-{b}", 100)));
                accepted.AddRange(batches.SelectMany(b => b));
            }
            // Straight after the last answer, while the writer is still draining its buffer.
            server.Kill();
        }
        var loggedAtKill = await LocalStore.CountLoggedAsync(DataDir, accepted);

        int logged;
        await using (var restarted = await ServerProcess.StartAsync(DataDir))
        {
            logged = await LocalStore.CountLoggedWithinAsync(DataDir, accepted, TimeSpan.FromSeconds(60));
        }
        output.WriteLine($"{accepted.Count} predictions answered 200; {loggedAtKill} in the store at the kill; {logged} after the restart; {accepted.Count - logged} lost.");
        Assert.Equal(accepted.Count, logged);
    }
}
