namespace Churn.Reliability.Tests.Faults;

/// <summary>Jobs kept in the store: a killed run's job is failed with its reason at the next start, results outlive restarts until retention.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class DurableJobTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Fact]
    public async Task AJobKilledMidwayIsFailedWithItsReasonAtTheNextStartWhileFinishedResultsOutliveTheRestartUntilRetention()
    {
        string scoring, training;
        byte[] result;
        await using (var server = await ServerProcess.StartAsync(DataDir))
        {
            using var admin = server.Client();
            var submitted = await admin.PostAsync("/jobs/score", new StringContent(Bodies.Csv(300, seed: 3), Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
            scoring = (await submitted.ReadObjectAsync())["id"]!.GetValue<string>();
            Assert.Equal("Succeeded", (await BackgroundJobs.FinishedAsync(admin, scoring))["status"]!.GetValue<string>());
            result = await admin.GetByteArrayAsync($"/jobs/{scoring}/result");

            training = await BackgroundJobs.RetrainAsync(admin, rows: 40000, seed: 5);
            await BackgroundJobs.UnderWayAsync(admin, training);
            // Long enough for the running state to be written (changes are written within a second).
            await Task.Delay(TimeSpan.FromSeconds(2));
            server.Kill();
        }

        await using (var restarted = await ServerProcess.StartAsync(DataDir))
        {
            using var admin = restarted.Client();
            var failed = (await admin.GetFromJsonAsync<JsonObject>($"/jobs/{training}"))!;
            output.WriteLine($"the killed retraining after the restart: {failed}");
            Assert.Equal("Failed", failed["status"]!.GetValue<string>());
            Assert.Contains("stopped before the job finished", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.NotNull(failed["finishedAt"]);
            var finished = (await admin.GetFromJsonAsync<JsonObject>($"/jobs/{scoring}"))!;
            Assert.Equal("Succeeded", finished["status"]!.GetValue<string>());
            Assert.Equal($"/jobs/{scoring}/result", finished["resultUrl"]!.GetValue<string>());
            Assert.Equal(result, await admin.GetByteArrayAsync($"/jobs/{scoring}/result"));
        }

        // Retention of one second: the leader deletes both finished jobs, rows and files.
        await using (var shortRetention = await ServerProcess.StartAsync(DataDir, new Dictionary<string, string> { ["Churn:JobRetention"] = "00:00:01" }))
        {
            using var admin = shortRetention.Client();
            await Wait.UntilAsync(async () => (await admin.GetAsync($"/jobs/{scoring}")).StatusCode == HttpStatusCode.NotFound,
                TimeSpan.FromSeconds(60), "retention to delete the finished scoring job");
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/jobs/{training}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/jobs/{scoring}/result")).StatusCode);
            Assert.False(Directory.Exists(Path.Combine(DataDir, "jobs", Guid.Parse(scoring).ToString("N"))), "the job's folder is still there");
        }
    }
}
