using Churn.Scale.Tests.Fixtures;
using Xunit.Abstractions;
using static Churn.Scale.Tests.Fixtures.DashboardSignIn;

namespace Churn.Scale.Tests;

/// <summary>
/// Security state two replicas share through a PostgreSQL store alone (no Redis): the sign-in lockout and the
/// data-protection key ring, encrypted with the configured certificate.
/// </summary>
[Collection(SharedStoreCollection.Name)]
public sealed class StoreSharedSecurityTests(SharedStoreFixture deployment, ITestOutputHelper output)
{
    [Fact]
    public async Task SignInFailuresSpreadOverBothReplicasLockTheNameOnBothThroughTheStore()
    {
        // Unknown names are counted like known ones; the per-name limit is 5 (Dashboard:FailuresPerUser).
        var name = $"guesser-{Guid.NewGuid():N}"[..20];
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);
        await DashboardSignIn.FailFiveTimesOverBothAsync(browser, deployment.A, deployment.B, name);
        var locks = await deployment.ColumnAsync($"""SELECT "Key" FROM sign_in_counters WHERE "Kind" = 'user' AND "LockedUntil" IS NOT NULL AND "Key" = '{name}'""");
        Assert.Equal(name, Assert.Single(locks));
        output.WriteLine($"5 failed sign-ins (3 on store-a, 2 on store-b) locked '{name}' on both replicas; the lock is a row of sign_in_counters.");
    }

    [Fact]
    public async Task ADashboardCookieIssuedByOneReplicaIsAcceptedByTheOther()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);

        // The antiforgery token and cookie come from A and are checked by A; the sign-in cookie A issues then opens B's dashboard.
        var signIn = await SignInResponseAsync(browser, deployment.A, deployment.A, "admin", SharedStoreFixture.DashboardPassword);
        Assert.True(signIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther,
            $"Signing in on store-a answered {(int)signIn.StatusCode}: {await signIn.Content.ReadAsStringAsync()}");
        Assert.Contains(handler.CookieContainer.GetCookies(new Uri(deployment.A.Url)), c => c.Name == "churn.dashboard");

        var onB = await browser.GetAsync($"{deployment.B.Url}/");
        Assert.Equal(HttpStatusCode.OK, onB.StatusCode);
        Assert.Equal("store-b", ScaleFixture.InstanceOf(onB));

        // And the other way round: B's antiforgery token is accepted by A.
        using var handler2 = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser2 = new HttpClient(handler2);
        var crossed = await SignInResponseAsync(browser2, deployment.B, deployment.A, "admin", SharedStoreFixture.DashboardPassword);
        Assert.True(crossed.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther,
            $"A sign-in form from store-b posted to store-a answered {(int)crossed.StatusCode}: {await crossed.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.OK, (await browser2.GetAsync($"{deployment.B.Url}/")).StatusCode);
    }

    [Fact]
    public async Task TheKeyRingIsInTheStoreEncryptedWithTheCertificateAndNotInTheDataDirectory()
    {
        // A page that needs the ring, in case no request has needed it yet.
        using (var browser = new HttpClient())
        {
            await browser.GetAsync($"{deployment.A.Url}/account/login");
        }
        var keys = await deployment.ColumnAsync("""SELECT "Xml" FROM data_protection_keys""");
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
        // Both replicas started on an empty store: the ring was read only once the store had its tables.
        Assert.DoesNotContain("key ring", deployment.Logs, StringComparison.OrdinalIgnoreCase);
        output.WriteLine($"{keys.Count} key(s) in data_protection_keys, each encrypted with the configured certificate; none in the data directory.");
    }

    [Fact]
    public async Task AReplicaOnThisStoreWithoutRedisOrACertificateRefusesToStartNamingTheSetting()
    {
        await using var bare = deployment.NewReplica("store-bare", e =>
        {
            e.Remove("Churn__KeyRingCertificate");
            e.Remove("Churn__KeyRingCertificatePassword");
        });
        bare.Start();

        var exitCode = await bare.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, exitCode);
        Assert.Contains("the server cannot start: Churn:KeyRingCertificate is required when the store is PostgreSQL and Churn:Redis is not set", bare.Output, StringComparison.Ordinal);
        output.WriteLine(bare.Output.Split('\n').First(l => l.Contains("cannot start", StringComparison.Ordinal)));
    }
}
