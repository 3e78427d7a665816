using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Churn.Testing;

/// <summary>A server's background jobs as a client sees them through <c>/retrain</c> and <c>/jobs/{id}</c>: started, under way, finished.</summary>
public static class BackgroundJobs
{
    /// <summary>Asks for a retraining on <paramref name="rows"/> generated rows; asserts it was accepted and returns the job's id.</summary>
    public static async Task<string> RetrainAsync(HttpClient admin, int rows, int seed)
    {
        var accepted = await admin.PostAsJsonAsync("/retrain", new { rows, seed });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return (await accepted.ReadObjectAsync())["id"]!.GetValue<string>();
    }

    /// <summary>Waits (up to three minutes) until the job runs and reports progress: the moment to inject a fault.</summary>
    public static Task UnderWayAsync(HttpClient admin, string id, string what = "the retraining to be under way") =>
        Wait.UntilAsync(async () =>
        {
            var state = await admin.GetFromJsonAsync<JsonObject>($"/jobs/{id}");
            return state!["status"]!.GetValue<string>() == "Running" && state["progress"]!.GetValue<double>() > 0;
        }, TimeSpan.FromMinutes(3), what);

    /// <summary>Waits (up to <paramref name="limit"/>, three minutes unless told) until the job succeeded or failed; returns its last state.</summary>
    public static async Task<JsonObject> FinishedAsync(HttpClient client, string id, TimeSpan? limit = null)
    {
        JsonObject job = [];
        await Wait.UntilAsync(async () =>
        {
            job = (await client.GetFromJsonAsync<JsonObject>($"/jobs/{id}"))!;
            return job["status"]!.GetValue<string>() is "Succeeded" or "Failed";
        }, limit ?? TimeSpan.FromMinutes(3), $"job {id} to finish");
        return job;
    }
}
