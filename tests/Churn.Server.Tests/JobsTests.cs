using System.Net.Http.Headers;

namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class JobsTests(ServerFixture server) : RoleClientTests(server)
{
    [Fact]
    public async Task AnUploadedCsvIsScoredInTheBackgroundAndItsResultMatchesPredict()
    {
        var csv = Bodies.Csv(400, seed: 5);

        var started = await Analyst.PostAsync("/jobs/score", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        var job = await BackgroundJobs.FinishedAsync(Analyst, id);
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());
        Assert.Equal($"/jobs/{id}/result", job["resultUrl"]!.GetValue<string>());
        // Every row is counted, though progress reports come only every Model.BatchSize rows, and the rate is over the
        // job's own start and finish as it reports them.
        Assert.Equal(400, job["rowsDone"]!.GetValue<long>());
        var seconds = (job["finishedAt"]!.GetValue<DateTimeOffset>() - job["startedAt"]!.GetValue<DateTimeOffset>()).TotalSeconds;
        Assert.Equal(Math.Round(400 / seconds), job["rowsPerSecond"]!.GetValue<double>());
        var result = await Analyst.GetAsync($"/jobs/{id}/result");
        Assert.Equal("text/csv", result.Content.Headers.ContentType?.MediaType);
        var lines = (await result.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(401, lines.Length);

        var first = lines[1].Split(',');
        var single = await (await Analyst.PostAsync("/predict", Bodies.Json(Bodies.Customers(1, seed: 5)[0]))).ReadObjectAsync();
        Assert.Equal(single["customerId"]!.GetValue<string>(), first[1]);
        Assert.Equal(single["churnProbability"]!.GetValue<double>(), double.Parse(first[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ScoringWithContributionsWritesOneColumnPerFeatureThatAddsUpToTheLogOdds()
    {
        var csv = Bodies.Csv(30, seed: 9);

        var started = await Analyst.PostAsync("/jobs/score?contributions=true", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var refused = await Analyst.PostAsync("/jobs/score?contributions=maybe", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("contributions", (await refused.ReadObjectAsync())["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.ReadObjectAsync())["id"]!.GetValue<string>();
        Assert.Equal("Succeeded", (await BackgroundJobs.FinishedAsync(Analyst, id))["status"]!.GetValue<string>());
        var lines = (await (await Analyst.GetAsync($"/jobs/{id}/result")).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        var features = Bodies.Customer(1)["features"]!.AsObject().Select(p => "shap_" + p.Key);
        Assert.Equal(["shap_base", .. features], header.Where(h => h.StartsWith("shap_", StringComparison.Ordinal)));
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var p = double.Parse(cells[Array.IndexOf(header, "churnProbability")], System.Globalization.CultureInfo.InvariantCulture);
            var sum = header.Select((h, i) => (h, i)).Where(c => c.h.StartsWith("shap_", StringComparison.Ordinal))
                .Sum(c => double.Parse(cells[c.i], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(Math.Log(p / (1 - p)), sum, 1e-9);
        }
    }

    [Fact]
    public async Task AMultipartUploadIsAcceptedAndAFileWithoutFeatureColumnsFailsItsJobWithAReason()
    {
        using var form = new MultipartFormDataContent();
        var file = new StringContent("customerId,colour\nA,blue\n", Encoding.UTF8);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "customers.csv");

        var started = await Service.PostAsync("/jobs/score", form);

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await BackgroundJobs.FinishedAsync(Service, (await started.ReadObjectAsync())["id"]!.GetValue<string>());
        Assert.Equal("Failed", job["status"]!.GetValue<string>());
        Assert.Contains("tenureMonths", job["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(job["rowsPerSecond"]);
        Assert.Equal(HttpStatusCode.Conflict, (await Service.GetAsync($"/jobs/{job["id"]}/result")).StatusCode);
    }

    [Fact]
    public async Task AnUnknownJobIsNotFound()
    {

        Assert.Equal(HttpStatusCode.NotFound, (await Viewer.GetAsync($"/jobs/{Guid.NewGuid()}")).StatusCode);
    }
}
