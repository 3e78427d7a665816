namespace Churn.Container.Tests;

/// <summary>
/// deploy/docker-compose.yml's shape with the image: two replica containers sharing one model volume, PostgreSQL and
/// Redis, with nginx in front. The engines run on the host (as the scale-out tests start them), not in containers: no
/// registry serves their images here.
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class ScaledOutTests(ImageFixture image, ITestOutputHelper output)
{
    [EngineFact]
    public async Task TwoReplicaContainersBehindNginxServeBothAndAPromotionOnOneIsServedByTheOther()
    {
        await using var postgres = new TestPostgres();
        await using var redis = new TestRedis();
        await using var nginx = new TestNginx();
        await Task.WhenAll(postgres.StartAsync(), redis.StartAsync());
        var volume = await image.VolumeAsync();
        // The key-ring certificate, mounted as the compose file mounts its secret; readable by the image's user.
        var certificate = await TestCertificates.CreatePfxAsync(TestSecrets.KeyRingPassword);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(certificate, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        var files = new Dictionary<string, string> { [certificate] = "/run/secrets/key_ring" };
        Dictionary<string, string> Environment(string instance) => new()
        {
            ["Churn__Store__Provider"] = "postgres",
            ["Churn__Store__ConnectionString"] = postgres.ConnectionString,
            ["Churn__Redis"] = redis.Configuration,
            ["Churn__KeyRingCertificate"] = "/run/secrets/key_ring",
            ["Churn__KeyRingCertificatePassword"] = TestSecrets.KeyRingPassword,
            ["Churn__InstanceId"] = instance,
            // Polling is the fallback; an hour means the other replica can only learn of a promotion by notification.
            ["Churn__ChampionPollInterval"] = "01:00:00",
        };
        // As in the compose file: the second replica starts once the first is healthy (it migrated and trained).
        await using var a = await ChurnContainer.RunHealthyAsync(image.Docker, volume, Environment("churn-1"), files);
        await using var b = await ChurnContainer.RunHealthyAsync(image.Docker, volume, Environment("churn-2"), files);
        await nginx.StartAsync([a.Port, b.Port]);

        using var proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Port}"), Timeout = TimeSpan.FromSeconds(60) };
        proxy.DefaultRequestHeaders.Add("X-API-Key", TestSecrets.AdminKey);
        var instances = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            var response = await proxy.PostAsync("/predict", ScaleFixture.PredictBody($"nginx-{i}", i));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            instances.Add(ScaleFixture.InstanceOf(response));
        }
        Assert.Equal(["churn-1", "churn-2"], instances.Order(StringComparer.Ordinal));

        using var adminA = a.Client();
        using var adminB = b.Client();
        await Requests.RetrainAsync(adminA);
        var servingOnB = await Requests.ServingVersionAsync(adminB);
        var target = servingOnB == 1 ? 2 : 1;

        await Requests.PromoteAsync(adminA, target);

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await Requests.ServingVersionAsync(adminB) != target && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }
        Assert.True(await Requests.ServingVersionAsync(adminB) == target, $"churn-2 does not serve v{target} 30 s after the promotion on churn-1:\n{await b.LogsAsync()}");
        output.WriteLine($"churn-1 promoted v{target}; churn-2 served it without polling. Memory: churn-1 {(await a.MemoryAsync()).Trim()}, churn-2 {(await b.MemoryAsync()).Trim()}.");
    }

}
