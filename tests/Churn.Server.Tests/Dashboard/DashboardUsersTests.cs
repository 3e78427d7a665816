using Churn.Server.Dashboard;

namespace Churn.Server.Tests.Dashboard;

public sealed class PasswordHashTests
{
    [Fact]
    public void AHashVerifiesItsPasswordAndNoOther()
    {
        var hash = DashboardUsers.HashPassword("s3cret-pass");
        Assert.StartsWith("pbkdf2-sha256$", hash, StringComparison.Ordinal);
        Assert.True(DashboardUsers.VerifyPassword("s3cret-pass", hash));
        Assert.False(DashboardUsers.VerifyPassword("s3cret-Pass", hash));
        Assert.False(DashboardUsers.VerifyPassword("s3cret-pass", "not a hash"));
    }

    [Fact]
    public void TheSamePasswordHashesDifferentlyEachTime() =>
        Assert.NotEqual(DashboardUsers.HashPassword("same"), DashboardUsers.HashPassword("same"));
}

[Collection(ServerCollection.Name)]
public sealed class DashboardAuthTests(ServerFixture fixture)
{
    [Fact]
    public async Task SignInChecksThePasswordAndTheGeneratedAdminExists()
    {
        var users = fixture.Factory.Services.GetRequiredService<DashboardUsers>();
        await users.CreateAsync("tess", "tess-password", "viewer", CancellationToken.None);
        Assert.Equal("viewer", (await users.SignInAsync("tess", "tess-password", CancellationToken.None))?.Role);
        Assert.Null(await users.SignInAsync("tess", "wrong", CancellationToken.None));
        Assert.Null(await users.SignInAsync("nobody", "tess-password", CancellationToken.None));
        Assert.Contains(await users.ListAsync(CancellationToken.None), u => u.UserName == "admin" && u.Role == "admin");
    }

    [Fact]
    public async Task DisablingRefusesSignInKeepsTheHashAndGuardsTheLastAdminAndOneself()
    {
        var users = fixture.Factory.Services.GetRequiredService<DashboardUsers>();
        var dora = await users.CreateAsync("dora", "dora-password", "analyst", CancellationToken.None);
        Assert.True((await users.SetDisabledAsync(dora.Id, true, "admin", CancellationToken.None))!.Disabled);
        Assert.Null(await users.SignInAsync("dora", "dora-password", CancellationToken.None));
        // A reset keeps a disabled user disabled; enabling brings the (new) password back.
        await users.ResetPasswordAsync(dora.Id, "dora-password-2", CancellationToken.None);
        Assert.Null(await users.SignInAsync("dora", "dora-password-2", CancellationToken.None));
        Assert.False((await users.SetDisabledAsync(dora.Id, false, "admin", CancellationToken.None))!.Disabled);
        Assert.NotNull(await users.SignInAsync("dora", "dora-password-2", CancellationToken.None));

        var admin = (await users.ListAsync(CancellationToken.None)).Single(u => u.UserName == "admin");
        var self = await Assert.ThrowsAsync<DashboardUserException>(() => users.SetDisabledAsync(admin.Id, true, "admin", CancellationToken.None));
        Assert.Contains("your own account", self.Message, StringComparison.Ordinal);
        var last = await Assert.ThrowsAsync<DashboardUserException>(() => users.SetDisabledAsync(admin.Id, true, "someone", CancellationToken.None));
        Assert.Contains("last enabled admin", last.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NewUsersAreValidatedFieldByField()
    {
        var errors = DashboardUsers.Validate("bad name!", "short", "service");
        Assert.Equal(["password", "role", "userName"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(DashboardUsers.Validate("nina", "long-enough-password", "viewer"));
    }

    [Fact]
    public async Task DashboardPagesRedirectToLoginWhileTheApiAnswers401()
    {
        using var client = fixture.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetAsync("/dashboard/registry");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Contains("/account/login", page.Headers.Location?.ToString(), StringComparison.Ordinal);
        var api = await client.GetAsync("/models");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
    }
}
