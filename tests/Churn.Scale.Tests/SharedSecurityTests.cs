using System.Text.RegularExpressions;
using Churn.Scale.Tests.Fixtures;
using Xunit.Abstractions;

namespace Churn.Scale.Tests;

/// <summary>Security state every replica shares through Redis: the sign-in lockout and the encrypted data-protection key ring.</summary>
[Collection(ScaleCollection.Name)]
public sealed partial class SharedSecurityTests(ScaleFixture deployment, ITestOutputHelper output)
{
    private const string Locked = "Too many failed sign-ins";

    [Fact]
    public async Task SignInFailuresSpreadOverBothReplicasCountTowardsOneLockoutThatBothEnforce()
    {
        // Unknown names are counted like known ones; the per-name limit is 5 (Dashboard:FailuresPerUser).
        var name = $"guesser-{Guid.NewGuid():N}"[..20];
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);
        var answers = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var replica = attempt % 2 == 0 ? deployment.A : deployment.B;
            answers.Add(await SignInAsync(browser, replica, name, $"wrong-{attempt}"));
        }
        // Four failures (two per replica) are not enough on their own; the fifth, wherever it lands, locks the name everywhere.
        Assert.All(answers.Take(4), a => Assert.DoesNotContain(Locked, a, StringComparison.Ordinal));
        Assert.Contains(Locked, answers[4], StringComparison.Ordinal);
        Assert.Contains(Locked, await SignInAsync(browser, deployment.B, name, "wrong-again"), StringComparison.Ordinal);
        Assert.Contains(Locked, await SignInAsync(browser, deployment.A, name, "wrong-again"), StringComparison.Ordinal);
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

    private static async Task<string> SignInAsync(HttpClient browser, Replica replica, string user, string password)
    {
        var page = await browser.GetStringAsync($"{replica.Url}/account/login");
        var token = Token().Match(page).Groups[1].Value;
        var response = await browser.PostAsync($"{replica.Url}/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
