using System.Text.RegularExpressions;
using Churn.Server.Dashboard;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Churn.Server.Tests.Dashboard;

/// <summary>The Campaigns page as each role sees it, signed in through the real login form and rendered by the server.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class CampaignsPageTests(ServerFixture server)
{
    // Made per run, so no password is written in the repository.
    private static readonly string Password = $"pw-{Guid.NewGuid():N}";

    [Theory]
    [InlineData("analyst", true)]
    [InlineData("admin", true)]
    [InlineData("viewer", false)]
    public async Task EveryRoleSeesTheCampaignsAndOnlyAnalystsAndAdminsTheCreateForm(string role, bool mayCreate)
    {
        using var api = server.ClientFor("analyst");
        var name = $"Page check {Guid.NewGuid():N}";
        (await api.PostAsJsonAsync("/campaigns", new
        {
            name,
            offer = "free month",
            costPerContact = 5,
            retainedValue = 100,
            eligibility = "probability-floor",
            probabilityFloor = 0.2,
        })).EnsureSuccessStatusCode();
        using var browser = await SignInAsync($"page-{role}-{Guid.NewGuid():N}"[..20], role);

        var response = await browser.GetAsync("/dashboard/campaigns");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Retention campaigns", html, StringComparison.Ordinal);
        Assert.Contains(name, html, StringComparison.Ordinal);
        Assert.Equal(mayCreate, html.Contains("id=\"create-campaign\"", StringComparison.Ordinal));
    }

    private async Task<HttpClient> SignInAsync(string user, string role)
    {
        await server.Factory.Services.GetRequiredService<DashboardUsers>().CreateAsync(user, Password, role, CancellationToken.None);
        var client = server.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var form = await client.GetStringAsync("/account/login");
        var token = Token().Match(form).Groups[1].Value;
        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["Input.UserName"] = user,
            ["Input.Password"] = Password,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in answered {(int)response.StatusCode}");
        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
