using System.Buffers.Text;

namespace Churn.Scale.Tests;

/// <summary>
/// The shared security state of the scaled-out deployment: the sign-in lockout in Redis, and the key ring (a
/// certificate is configured) in the store, where a Redis restart cannot take it.
/// </summary>
[Collection(ScaleCollection.Name)]
public sealed class RedisSharedSecurityTests(ScaleFixture deployment, ITestOutputHelper output)
    : SharedSecurityTests(deployment.A, deployment.B, deployment.Postgres, deployment.DataDir, TestSecrets.DashboardPassword, output)
{
    protected override async Task<string> AssertLockHeldAsync(string name)
    {
        Assert.True(await deployment.Redis.GetDatabase().KeyExistsAsync($"churn:signin:lock:user:{name}"), "the lockout is not in Redis");
        return "a key in Redis";
    }

    protected override async Task<(IReadOnlyList<string> Keys, string Where)> KeyRingAsync()
    {
        var keys = await StoredKeysAsync();
        // Where the ring was kept before (unencrypted without a certificate): a Redis restart emptied it.
        Assert.False(await deployment.Redis.GetDatabase().KeyExistsAsync("churn:data-protection-keys"), "a key ring in Redis");
        return (keys, "data_protection_keys, not Redis");
    }

    [Fact]
    public async Task AfterRedisComesBackEmptyAReplicaRestartedThenStillSignsWithTheKeyTheOtherKnows()
    {
        // The key B protects its cookies with, from the ring it loaded at start.
        var bKey = await SignInKeyAsync(deployment.B);
        // Redis without persistence, as deployed: a restart empties it. Then replica A restarts and signs a visitor in.
        await deployment.RedisServer.StopAsync();
        await deployment.RedisServer.StartAsync();
        await deployment.A.StopGracefullyAsync(TimeSpan.FromSeconds(60));
        deployment.A.Start();
        await deployment.A.WaitReadyAsync(TimeSpan.FromMinutes(2));

        // B has run all along with the ring it loaded at start, and looks for a key it does not know only in its first
        // two minutes (ASP.NET's data protection): the restarted A must protect its cookies with the key B uses.
        var aKey = await SignInKeyAsync(deployment.A);
        Assert.True(aKey == bKey,
            $"The restarted {deployment.A.InstanceId} protected its cookie with key {aKey}; {deployment.B.InstanceId} uses {bKey}.\n{deployment.A.Output}");
        Output.WriteLine($"Redis restarted empty, then {deployment.A.InstanceId} restarted: it protected its cookie with key {aKey}, the one {deployment.B.InstanceId} had used before.");
    }

    /// <summary>Signs in on <paramref name="replica"/> and returns the id of the key that protected its cookie.</summary>
    private static async Task<Guid> SignInKeyAsync(Replica replica)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);
        var signIn = await DashboardSignIn.SignInResponseAsync(browser, replica, replica, "admin", TestSecrets.DashboardPassword);
        Assert.True(signIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther,
            $"Signing in on {replica.InstanceId} answered {(int)signIn.StatusCode}");
        return ProtectingKeyId(handler.CookieContainer.GetCookies(new Uri(replica.Url)));
    }

    /// <summary>
    /// The id of the key that protected the sign-in cookie: a protected payload starts with a 4-byte magic header and
    /// the key's 16-byte id (ASP.NET Core data protection's payload format); the cookie carries it base64url-encoded,
    /// split into chunks named <c>…C1</c>, <c>…C2</c> when long.
    /// </summary>
    private static Guid ProtectingKeyId(CookieCollection cookies)
    {
        var value = cookies["churn.dashboard"]?.Value ?? throw new InvalidOperationException("no sign-in cookie");
        if (value.StartsWith("chunks-", StringComparison.Ordinal))
        {
            value = cookies["churn.dashboardC1"]!.Value;
        }
        var payload = Base64Url.DecodeFromChars(value);
        return new Guid(payload.AsSpan(4, 16));
    }
}
