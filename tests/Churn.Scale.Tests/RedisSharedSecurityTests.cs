namespace Churn.Scale.Tests;

/// <summary>The shared security state of the scaled-out deployment, which keeps it in Redis.</summary>
[Collection(ScaleCollection.Name)]
public sealed class RedisSharedSecurityTests(ScaleFixture deployment, ITestOutputHelper output)
    : SharedSecurityTests(deployment.A, deployment.B, deployment.DataDir, TestSecrets.DashboardPassword, output)
{
    protected override async Task<string> AssertLockHeldAsync(string name)
    {
        Assert.True(await deployment.Redis.GetDatabase().KeyExistsAsync($"churn:signin:lock:user:{name}"), "the lockout is not in Redis");
        return "a key in Redis";
    }

    // As written at start: other tests restart Redis, which (without persistence, as here) comes back empty.
    protected override Task<(IReadOnlyList<string> Keys, string Where)> KeyRingAsync() =>
        Task.FromResult((deployment.KeyRingAtStart, "Redis"));
}
