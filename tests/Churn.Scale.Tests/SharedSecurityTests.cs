namespace Churn.Scale.Tests;

/// <summary>
/// Security state every replica of a deployment shares: the sign-in lockout, the dashboard cookie and antiforgery token,
/// and the data-protection key ring, encrypted with the configured certificate. The scenarios are the same whichever
/// holds that state (Redis, or the PostgreSQL store alone); each deployment's class says where to look for it.
/// </summary>
public abstract class SharedSecurityTests
{
    private readonly Replica a;
    private readonly Replica b;
    private readonly string dataDir;
    private readonly string dashboardPassword;

    private readonly TestPostgres store;

    private protected SharedSecurityTests(Replica a, Replica b, TestPostgres store, string dataDir, string dashboardPassword, ITestOutputHelper output)
    {
        this.store = store;
        this.a = a;
        this.b = b;
        this.dataDir = dataDir;
        this.dashboardPassword = dashboardPassword;
        Output = output;
    }

    /// <summary>Where the tests write what they measured.</summary>
    protected ITestOutputHelper Output { get; }

    /// <summary>Asserts that the lockout of <paramref name="name"/> is held where the deployment keeps it, and says where.</summary>
    protected abstract Task<string> AssertLockHeldAsync(string name);

    /// <summary>The key ring's keys as XML, read where the deployment keeps them, and where that is.</summary>
    protected abstract Task<(IReadOnlyList<string> Keys, string Where)> KeyRingAsync();

    /// <summary>The keys in the store's <c>data_protection_keys</c> (as XML), once a page on replica A has needed the ring.</summary>
    private protected async Task<List<string>> StoredKeysAsync()
    {
        using (var browser = new HttpClient())
        {
            await browser.GetAsync($"{a.Url}/account/login");
        }
        return await store.ColumnAsync("""SELECT "Xml" FROM data_protection_keys""");
    }

    [Fact]
    public async Task SignInFailuresSpreadOverBothReplicasLockTheNameOnBoth()
    {
        // Unknown names are counted like known ones; the per-name limit is 5 (Dashboard:FailuresPerUser).
        var name = $"guesser-{Guid.NewGuid():N}"[..20];
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);
        await DashboardSignIn.FailFiveTimesOverBothAsync(browser, a, b, name);
        var where = await AssertLockHeldAsync(name);
        Output.WriteLine($"5 failed sign-ins (3 on {a.InstanceId}, 2 on {b.InstanceId}) locked '{name}' on both replicas; the lock is {where}.");
    }

    [Fact]
    public async Task ADashboardCookieIssuedByOneReplicaIsAcceptedByTheOther()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);

        // The antiforgery token and cookie come from A and are checked by A; the sign-in cookie A issues then opens B's dashboard.
        var signIn = await DashboardSignIn.SignInResponseAsync(browser, a, a, "admin", dashboardPassword);
        Assert.True(signIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther,
            $"Signing in on {a.InstanceId} answered {(int)signIn.StatusCode}: {await signIn.Content.ReadAsStringAsync()}");
        Assert.Contains(handler.CookieContainer.GetCookies(new Uri(a.Url)), c => c.Name == "churn.dashboard");

        var onB = await browser.GetAsync($"{b.Url}/");
        Assert.Equal(HttpStatusCode.OK, onB.StatusCode);
        Assert.Equal(b.InstanceId, ScaleFixture.InstanceOf(onB));

        // And across: the antiforgery token and cookie from A are checked by B, and B's sign-in cookie then opens A's dashboard.
        using var handler2 = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser2 = new HttpClient(handler2);
        var crossed = await DashboardSignIn.SignInResponseAsync(browser2, a, b, "admin", dashboardPassword);
        Assert.True(crossed.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther,
            $"A sign-in form from {a.InstanceId} posted to {b.InstanceId} answered {(int)crossed.StatusCode}: {await crossed.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.OK, (await browser2.GetAsync($"{a.Url}/")).StatusCode);
    }

    [Fact]
    public async Task TheKeyRingIsEncryptedWithTheConfiguredCertificateAndNotInTheDataDirectory()
    {
        var (keys, where) = await KeyRingAsync();
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            // Encrypted with the certificate: the key material is an EncryptedData element, never a plain <value>.
            Assert.Contains("EncryptedXmlDecryptor", key, StringComparison.Ordinal);
            Assert.Contains("EncryptedData", key, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", key, StringComparison.Ordinal);
        }
        var folder = Path.Combine(dataDir, "keys");
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(), $"key files in {folder}");
        Output.WriteLine($"{keys.Count} key(s) in {where}, each encrypted with the configured certificate; none in the data directory.");
    }
}
