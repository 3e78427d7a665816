using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;

namespace Churn.Server.Dashboard;

/// <summary>
/// The dashboard's check before each change: clicks arrive over the Blazor circuit, not HTTP, so endpoint authorization
/// never sees them. A page asks the API's own authorization policies (<see cref="Security.Policies"/>) whether the
/// signed-in user may do what the matching endpoint allows, so the dashboard and the API cannot disagree about a role.
/// </summary>
public sealed class DashboardPermissions(IAuthorizationService authorization)
{
    /// <summary>
    /// The signed-in user as the audit log records dashboard changes (name, "dashboard" as the address), or null when
    /// <paramref name="policy"/> does not allow them.
    /// </summary>
    public async Task<AuditActor?> ActorAsync(Task<AuthenticationState> state, string policy)
    {
        var user = (await state).User;
        return (await authorization.AuthorizeAsync(user, policy)).Succeeded ? new AuditActor(user.Identity?.Name ?? "dashboard", "dashboard") : null;
    }
}
