using System.Security.Claims;

namespace Churn.Server.Security;

/// <summary>Who made a change over HTTP, as the audit log records it: the API key's (or dashboard user's) name and the client's address.</summary>
public static class HttpAuditActor
{
    public static AuditActor AuditActor(this HttpContext context) =>
        new(context.User.KeyName(), context.Connection.RemoteIpAddress?.ToString());

    /// <summary>The name of the key (or dashboard user) behind a request, "anonymous" when there is none.</summary>
    public static string KeyName(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
}
