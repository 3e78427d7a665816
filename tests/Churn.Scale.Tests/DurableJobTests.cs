namespace Churn.Scale.Tests;

/// <summary>Jobs live in the shared store: any replica reports a job and serves its result, whichever replica ran it.</summary>
[Collection(ScaleCollection.Name)]
public sealed class DurableJobTests(ScaleFixture deployment)
{
    [Fact]
    public async Task AScoringJobSubmittedToOneReplicaIsReportedAndItsResultServedByTheOther()
    {
        using var adminA = deployment.A.Client(TestSecrets.AdminKey);
        using var adminB = deployment.B.Client(TestSecrets.AdminKey);
        var submitted = await adminA.PostAsync("/jobs/score", new StringContent(GeneratedCustomers.Csv(200, seed: 4), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        JsonObject? seenByB = null;
        await deployment.WaitUntilAsync(async () =>
        {
            var response = await adminB.GetAsync($"/jobs/{id}");
            seenByB = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
            return seenByB?["status"]?.GetValue<string>() is "Succeeded" or "Failed";
        }, TimeSpan.FromSeconds(60), "replica-b reporting replica-a's job as finished");

        Assert.Equal("Succeeded", seenByB!["status"]!.GetValue<string>());
        Assert.Equal("replica-a", seenByB["instance"]!.GetValue<string>());
        var fromA = await adminA.GetStringAsync($"/jobs/{id}/result");
        var fromB = await adminB.GetStringAsync($"/jobs/{id}/result");
        Assert.Equal(fromA, fromB);
        Assert.Equal(201, fromB.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(HttpStatusCode.NotFound, (await adminB.GetAsync($"/jobs/{Guid.NewGuid()}")).StatusCode);
    }
}
