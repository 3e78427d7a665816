using Churn.Server.Dashboard;

namespace Churn.Browser.Tests;

[Collection(DashboardCollection.Name)]
public sealed class UsersAndSignInTests(DashboardFixture fixture)
{
    [Fact]
    public async Task FiveBadPasswordsLockTheUserNameOutEvenForTheRightPassword()
    {
        var users = fixture.App.Services.GetRequiredService<DashboardUsers>();
        await users.CreateAsync("lee", DashboardFixture.Password, "viewer", CancellationToken.None);
        // Four failures posted to the sign-in form over HTTP, the fifth in the browser: that one locks, and says so.
        using var http = new FormSignIn(fixture.BaseUrl);
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            Assert.Contains("not right", await http.PostAsync("lee", $"wrong-password-{attempt}"), StringComparison.Ordinal);
        }
        await using var tab = await fixture.OpenAsync();
        Assert.Contains("locked", await TrySignInAsync(tab, "lee", "wrong-password-5"), StringComparison.Ordinal);
        var refused = await TrySignInAsync(tab, "lee", DashboardFixture.Password);
        Assert.Contains("locked for 15 minute(s)", refused, StringComparison.Ordinal);
        Assert.Contains("/account/login", tab.Page.Url, StringComparison.Ordinal);
        await tab.ScreenshotAsync("login-locked");
        // Another user name from the same address is not affected by this lockout.
        await using var other = await fixture.SignInAsync("vic");
        Assert.DoesNotContain("/account/login", other.Page.Url, StringComparison.Ordinal);
        tab.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task ManyBadSignInsFromOneAddressLockItOutUntilAnAdminLiftsTheLockout()
    {
        var throttle = fixture.App.Services.GetRequiredService<SignInThrottle>();
        // Signed in before the lockout: the session stays valid, which is how an admin can lift it.
        await using var admin = await fixture.SignInAsync("admin");
        await using var tab = await fixture.OpenAsync();
        using var http = new FormSignIn(fixture.BaseUrl);
        try
        {
            // A different user name each time, so only the per-address count can lock (other tests' failures count too).
            string message = "";
            var attempts = 0;
            while (!message.Contains("locked", StringComparison.Ordinal))
            {
                Assert.True(++attempts <= DashboardFixture.FailuresPerAddress, $"Still not locked out after {attempts - 1} failed sign-ins from one address.");
                message = await http.PostAsync($"nobody-{attempts}", "not-a-password");
            }
            Assert.Contains("locked", await TrySignInAsync(tab, "ana", DashboardFixture.Password), StringComparison.Ordinal);

            await admin.GotoAsync("/dashboard/users");
            Assert.Contains("127.0.0.1", await admin.Page.InnerTextAsync("#lockouts-table"), StringComparison.Ordinal);
            await admin.ScreenshotAsync("users-lockouts");
            await admin.Page.ClickAsync("[id='lift-address-127.0.0.1']");
            await admin.Page.WaitForSelectorAsync("#no-lockouts, #lockouts-table:not(:has-text('127.0.0.1'))");
            admin.AssertNoConsoleErrors();

            await TrySignInAsync(tab, "ana", DashboardFixture.Password, expectError: false);
            await tab.Page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal));
            tab.AssertNoConsoleErrors();
        }
        finally
        {
            // Whatever failed above, the other tests must be able to sign in from this address.
            await throttle.LiftAsync(SignInThrottle.AddressKind, "127.0.0.1");
        }
    }

    [Fact]
    public async Task AdminAddsAUserWhoSignsInThenResetsTheirPasswordAndDisablesThem()
    {
        await using var admin = await fixture.SignInAsync("admin");
        await admin.GotoAsync("/dashboard/users");
        await admin.Page.FillAsync("#user-name", "nina");
        await admin.Page.FillAsync("#user-password", "short");
        await admin.Page.ClickAsync("#add-user");
        // Validation errors are shown beside the field, in words.
        await admin.Page.WaitForSelectorAsync("text=must be 10 to 200 characters long");

        await admin.ChooseAsync("user-role", "analyst");
        await admin.Page.FillAsync("#user-password", DashboardFixture.Password);
        await admin.Page.ClickAsync("#add-user");
        var status = await admin.Page.WaitForSelectorAsync("#status-nina", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.Equal("active", await status!.InnerTextAsync());
        await admin.ScreenshotAsync("users");

        await using var nina = await fixture.SignInAsync("nina");
        await nina.GotoAsync("/dashboard/predict");
        Assert.Contains("nina (analyst)", await nina.Page.InnerTextAsync("#signed-in-as"), StringComparison.Ordinal);
        nina.AssertNoConsoleErrors();

        await admin.Page.ClickAsync("#reset-nina");
        await admin.Page.FillAsync("#reset-password", "a-brand-new-password");
        await admin.Page.ClickAsync("#reset-save");
        await admin.Page.WaitForSelectorAsync("text=The password of nina was changed");
        using (var http = new FormSignIn(fixture.BaseUrl))
        {
            Assert.Contains("not right", await http.PostAsync("nina", DashboardFixture.Password), StringComparison.Ordinal);
        }

        await admin.Page.ClickAsync("#disable-nina");
        await admin.Page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await admin.Page.WaitForSelectorAsync("#status-nina:text-is('disabled')");
        // Her open session ends too: the next page load goes to the sign-in form.
        await nina.Page.GotoAsync(fixture.BaseUrl + "/dashboard/registry");
        Assert.Contains("/account/login", nina.Page.Url, StringComparison.Ordinal);
        await using (var refused = await fixture.OpenAsync())
        {
            Assert.Contains("not right", await TrySignInAsync(refused, "nina", "a-brand-new-password"), StringComparison.Ordinal);
        }

        using var api = fixture.Api();
        var audit = await api.GetStringAsync("/audit?limit=50");
        Assert.Contains("user.create", audit, StringComparison.Ordinal);
        Assert.Contains("user.reset_password", audit, StringComparison.Ordinal);
        Assert.Contains("user.disable", audit, StringComparison.Ordinal);
        admin.AssertNoConsoleErrors();
    }

    /// <summary>Submits the sign-in form and returns the error it shows (or "" when it is expected to succeed).</summary>
    private async Task<string> TrySignInAsync(DashboardPage tab, string user, string password, bool expectError = true)
    {
        await tab.Page.GotoAsync(fixture.BaseUrl + "/account/login");
        await tab.Page.FillAsync("#username", user);
        await tab.Page.FillAsync("#password", password);
        await tab.Page.ClickAsync("#sign-in");
        if (!expectError)
        {
            return "";
        }
        return await (await tab.Page.WaitForSelectorAsync("#login-error"))!.InnerTextAsync();
    }
}

/// <summary>
/// Posts the sign-in form as a browser would (antiforgery cookie and token from a fresh GET), without a browser: for the
/// many failed attempts a lockout test needs. Returns the error the page shows, or "" when it redirected (signed in).
/// </summary>
internal sealed partial class FormSignIn(string baseUrl) : IDisposable
{
    private readonly HttpClient http = new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = new Uri(baseUrl) };

    public async Task<string> PostAsync(string user, string password)
    {
        var form = await http.GetStringAsync("/account/login");
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = System.Net.WebUtility.HtmlDecode(Attribute(form, "__RequestVerificationToken", "value")),
            [Attribute(form, "username", "name")] = user,
            [Attribute(form, "password", "name")] = password,
        };
        using var response = await http.PostAsync("/account/login", new FormUrlEncodedContent(fields));
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            return "";
        }
        var page = await response.Content.ReadAsStringAsync();
        var error = ErrorPattern().Match(page);
        Assert.True(error.Success, $"The sign-in answered {(int)response.StatusCode} without an error message.");
        return System.Net.WebUtility.HtmlDecode(error.Groups[1].Value);
    }

    public void Dispose() => http.Dispose();

    /// <summary>An attribute of the input whose id or name is <paramref name="key"/>.</summary>
    private static string Attribute(string html, string key, string attribute)
    {
        foreach (System.Text.RegularExpressions.Match input in InputPattern().Matches(html))
        {
            var tag = input.Value;
            if (tag.Contains($"id=\"{key}\"", StringComparison.Ordinal) || tag.Contains($"name=\"{key}\"", StringComparison.Ordinal))
            {
                var value = System.Text.RegularExpressions.Regex.Match(tag, $"\\b{attribute}=\"([^\"]*)\"");
                Assert.True(value.Success, $"The {key} input has no {attribute}.");
                return value.Groups[1].Value;
            }
        }
        throw new Xunit.Sdk.XunitException($"The sign-in form has no {key} input.");
    }

    [System.Text.RegularExpressions.GeneratedRegex("<input[^>]*>")]
    private static partial System.Text.RegularExpressions.Regex InputPattern();

    [System.Text.RegularExpressions.GeneratedRegex("id=\"login-error\"[^>]*>([^<]*)<")]
    private static partial System.Text.RegularExpressions.Regex ErrorPattern();
}
