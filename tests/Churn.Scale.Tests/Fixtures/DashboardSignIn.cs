using System.Text.RegularExpressions;

namespace Churn.Scale.Tests.Fixtures;

/// <summary>Dashboard sign-ins against replicas, as a browser posts the login form, shared by the lockout tests.</summary>
internal static partial class DashboardSignIn
{
    /// <summary>What the login page says once a name is locked out.</summary>
    public const string Locked = "Too many failed sign-ins";

    /// <summary>
    /// Five failed sign-ins for <paramref name="name"/>, alternating replica A and B (3 on A, 2 on B); asserts that the
    /// first four are not locked, that the fifth is, and that both replicas then refuse the name.
    /// </summary>
    public static async Task FailFiveTimesOverBothAsync(HttpClient browser, Replica a, Replica b, string name)
    {
        var answers = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            answers.Add(await SignInAsync(browser, attempt % 2 == 0 ? a : b, name, $"wrong-{attempt}"));
        }
        // Four failures (two per replica) are not enough on their own; the fifth, wherever it lands, locks the name everywhere.
        Assert.All(answers.Take(4), answer => Assert.DoesNotContain(Locked, answer, StringComparison.Ordinal));
        Assert.Contains(Locked, answers[4], StringComparison.Ordinal);
        Assert.Contains(Locked, await SignInAsync(browser, b, name, "wrong-again"), StringComparison.Ordinal);
        Assert.Contains(Locked, await SignInAsync(browser, a, name, "wrong-again"), StringComparison.Ordinal);
    }

    /// <summary>Signs in on <paramref name="replica"/> and returns the HTML-decoded page it answers with.</summary>
    public static async Task<string> SignInAsync(HttpClient browser, Replica replica, string user, string password)
    {
        var response = await SignInResponseAsync(browser, replica, replica, user, password);
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Gets the sign-in form from <paramref name="formFrom"/> and posts it, with its antiforgery token, to <paramref name="postTo"/>.</summary>
    public static async Task<HttpResponseMessage> SignInResponseAsync(HttpClient browser, Replica formFrom, Replica postTo, string user, string password)
    {
        var page = await browser.GetStringAsync($"{formFrom.Url}/account/login");
        var token = Token().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);
        return await browser.PostAsync($"{postTo.Url}/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
