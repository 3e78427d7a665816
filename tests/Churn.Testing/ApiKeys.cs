using System.Net;
using System.Net.Http.Json;
using Xunit;

namespace Churn.Testing;

/// <summary>API keys made through the server's own <c>/keys</c> endpoints, as an administrator makes them.</summary>
public static class ApiKeys
{
    /// <summary>The roles besides admin, each of which a suite's server gets a key for.</summary>
    public static readonly IReadOnlyList<string> OtherRoles = ["analyst", "service", "viewer"];

    /// <summary>Creates a key named <paramref name="name"/> for <paramref name="role"/>; asserts it was created and returns its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateAsync(HttpClient admin, string name, string role)
    {
        var response = await admin.PostAsJsonAsync("/keys", new { name, role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadObjectAsync();
        return (created["id"]!.GetValue<string>(), created["key"]!.GetValue<string>());
    }

    /// <summary>
    /// One active key per role (<paramref name="adminKey"/> for admin, a new one for each of <see cref="OtherRoles"/>) and
    /// one service key revoked at once, all named after <paramref name="prefix"/>; returns the secrets.
    /// </summary>
    public static async Task<(Dictionary<string, string> Keys, string Revoked)> CreateForEveryRoleAsync(HttpClient admin, string adminKey, string prefix)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal) { ["admin"] = adminKey };
        foreach (var role in OtherRoles)
        {
            keys[role] = (await CreateAsync(admin, $"{prefix}-{role}", role)).Secret;
        }
        var revoked = await CreateAsync(admin, $"{prefix}-revoked", "service");
        (await admin.DeleteAsync($"/keys/{revoked.Id}")).EnsureSuccessStatusCode();
        return (keys, revoked.Secret);
    }
}
