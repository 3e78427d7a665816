using Churn.Scale.Tests.Fixtures;
using Xunit.Abstractions;

namespace Churn.Scale.Tests;

/// <summary>Security state every replica shares through Redis: the sign-in lockout and the encrypted data-protection key ring.</summary>
[Collection(ScaleCollection.Name)]
public sealed class SharedSecurityTests(ScaleFixture deployment, ITestOutputHelper output)
{
    [Fact]
    public async Task SignInFailuresSpreadOverBothReplicasCountTowardsOneLockoutThatBothEnforce()
    {
        // Unknown names are counted like known ones; the per-name limit is 5 (Dashboard:FailuresPerUser).
        var name = $"guesser-{Guid.NewGuid():N}"[..20];
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);
        await DashboardSignIn.FailFiveTimesOverBothAsync(browser, deployment.A, deployment.B, name);
        Assert.True(await deployment.Redis.GetDatabase().KeyExistsAsync($"churn:signin:lock:user:{name}"), "the lockout is not in Redis");
        output.WriteLine($"5 failed sign-ins (3 on replica-a, 2 on replica-b) locked '{name}' on both replicas.");
    }

    [Fact]
    public void TheDataProtectionKeyRingIsInRedisEncryptedWithTheConfiguredCertificateAndNotInTheDataDirectory()
    {
        // As written at start: other tests restart Redis, which (without persistence, as here) comes back empty.
        var keys = deployment.KeyRingAtStart;
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            // Encrypted with the certificate: the key material is an EncryptedData element, never a plain <value>.
            Assert.Contains("EncryptedXmlDecryptor", key, StringComparison.Ordinal);
            Assert.Contains("EncryptedData", key, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", key, StringComparison.Ordinal);
        }
        var folder = Path.Combine(deployment.DataDir, "keys");
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(), $"key files in {folder}");
        output.WriteLine($"{keys.Count} key(s) in Redis, each encrypted with the configured certificate; none in the data directory.");
    }
}
