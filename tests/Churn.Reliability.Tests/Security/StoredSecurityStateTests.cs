using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Churn.Reliability.Tests.Security;

/// <summary>A single node on SQLite without Redis: the sign-in lockout and (with a certificate) the key ring are in the store.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed partial class StoredSecurityStateTests(SharedServer shared, ITestOutputHelper output)
{
    private const string Locked = "Too many failed sign-ins";

    [Fact]
    public async Task WithACertificateTheKeyRingIsEncryptedInTheStoreAndALockoutOutlivesARestart()
    {
        using var dir = await DataDirs.CloneTrainedAsync();
        // The template was made without a certificate, so it holds plain key files: start without them.
        Scratch.Delete(Path.Combine(dir.Path, "keys"));
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var settings = new Dictionary<string, string>
        {
            ["Churn:KeyRingCertificate"] = await TestCertificates.CreatePfxAsync(password),
            ["Churn:KeyRingCertificatePassword"] = password,
        };
        var name = $"guesser-{Guid.NewGuid():N}"[..20];

        await using (var server = await ServerProcess.StartAsync(dir.Path, settings))
        {
            var answers = new List<string>();
            for (var attempt = 0; attempt < 5; attempt++)
            {
                answers.Add(await SignInAsync(server, name, $"wrong-{attempt}"));
            }
            Assert.All(answers.Take(4), a => Assert.DoesNotContain(Locked, a, StringComparison.Ordinal));
            Assert.Contains(Locked, answers[4], StringComparison.Ordinal);
            await server.StopAsync();
        }

        var keys = await ColumnAsync(dir.Path, "SELECT Xml FROM data_protection_keys");
        Assert.NotEmpty(keys);
        Assert.All(keys, k =>
        {
            Assert.Contains("EncryptedData", k, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", k, StringComparison.Ordinal);
        });
        var folder = Path.Combine(dir.Path, "keys");
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(), $"key files in {folder}");
        Assert.Equal(name, Assert.Single(await ColumnAsync(dir.Path, $"SELECT Key FROM sign_in_counters WHERE Kind = 'user' AND LockedUntil IS NOT NULL AND Key = '{name}'")));

        // A new process over the same store: the lockout is still in force (it was counted in the store, not in memory).
        await using var restarted = await ServerProcess.StartAsync(dir.Path, settings);
        Assert.Contains(Locked, await SignInAsync(restarted, name, "wrong-again"), StringComparison.Ordinal);
        output.WriteLine($"{keys.Count} encrypted key(s) in data_protection_keys, none in {folder}; '{name}' locked after 5 failures and still locked after a restart.");
    }

    [Fact]
    public void WithoutACertificateTheKeyRingStaysInPlainFilesWithAStartupWarning()
    {
        // The shared server runs as `churn serve` does with no settings: SQLite, no Redis, no certificate.
        Assert.Contains("The dashboard's key ring is kept unencrypted in", shared.Server.Output, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(shared.Server.DataDir, "keys"), "key-*.xml"));
    }

    private static async Task<string> SignInAsync(ServerProcess server, string user, string password)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        var page = await browser.GetStringAsync("/account/login");
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = Token().Match(page).Groups[1].Value,
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<string>> ColumnAsync(string dataDir, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "churn.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
