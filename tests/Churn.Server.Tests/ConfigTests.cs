namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ConfigTests(ServerFixture server)
{
    [Fact]
    public async Task ConfigShowsEverySettingOfTheBrief()
    {
        var config = await server.GetJsonAsync("viewer", "/config");

        foreach (var name in new[] { "model.retraining_threshold", "model.drift_threshold", "model.batch_size", "monitoring.check_interval",
            "monitoring.alert_threshold", "monitoring.retention_days", "api.rate_limit", "api.timeout", "api.max_batch_size" })
        {
            var parts = name.Split('.');
            Assert.True(config[parts[0]]?[parts[1]] is not null, $"{name} is missing from {config.ToJsonString()}");
        }
    }

    [Theory]
    [InlineData("""{"api": {"rate_limit": 0}}""", "api.rate_limit")]
    [InlineData("""{"api": {"timeout": "forever"}}""", "api.timeout")]
    [InlineData("""{"api": {"max_batch_size": "ten"}}""", "api.max_batch_size")]
    [InlineData("""{"model": {"drift_threshold": -1}}""", "model.drift_threshold")]
    [InlineData("""{"monitoring": {"retention_days": 0}}""", "monitoring.retention_days")]
    [InlineData("""{"api": {"colour": "blue"}}""", "api.colour")]
    [InlineData("""{"cache": {"size": 1}}""", "cache")]
    public async Task AnInvalidSettingIsRefusedNamingItAndNothingChanges(string body, string field)
    {
        using var admin = server.ClientFor("admin");
        var before = await admin.GetStringAsync("/config");

        var response = await admin.PutAsync("/config", Bodies.Json(body));

        await response.AssertFieldErrorAsync(HttpStatusCode.UnprocessableEntity, field);
        Assert.Equal(before, await admin.GetStringAsync("/config"));
    }

    [Fact]
    public async Task AChangedBatchLimitAppliesAtOnceIsStoredAndAudited()
    {
        using var admin = server.ClientFor("admin");
        try
        {
            var response = await admin.PutAsync("/config", Bodies.Json("""{"api": {"max_batch_size": 2}}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(2, (await response.ReadObjectAsync())["api"]!["max_batch_size"]!.GetValue<int>());

            var batch = new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(3)]) };
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await admin.PostAsync("/predict/batch", Bodies.Json(batch))).StatusCode);

            await using var db = server.Factory.Store.CreateDbContext();
            Assert.Equal("2", db.Settings.Single(s => s.Key == "api.max_batch_size").ValueJson);
            var audit = JsonNode.Parse(await admin.GetStringAsync("/audit?action=config.update"))!.AsArray();
            Assert.Contains(audit, a => (string?)a!["target"] == "api.max_batch_size");
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"api": {"max_batch_size": 100}}"""));
        }
    }

    [Fact]
    public async Task AKeyOverItsRateLimitGets429WithRetryAfter()
    {
        using var admin = server.ClientFor("admin");
        var key = await ServerFixture.CreateKeyAsync(admin, $"limited-{Guid.NewGuid():N}", "viewer");
        using var limited = server.Client(key);
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/config", Bodies.Json("""{"api": {"rate_limit": 3}}"""))).StatusCode);

            var statuses = new List<HttpStatusCode>();
            HttpResponseMessage last = null!;
            for (var i = 0; i < 4; i++)
            {
                last = await limited.GetAsync("/models");
                statuses.Add(last.StatusCode);
            }

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, (HttpStatusCode)429], statuses);
            Assert.True(last.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await admin.PutAsync("/config", Bodies.Json("""{"api": {"rate_limit": 1000000}}"""));
        }
        // Other keys were never limited by this key's use.
        Assert.Equal(HttpStatusCode.OK, (await server.ClientFor("viewer").GetAsync("/models")).StatusCode);
    }
}
