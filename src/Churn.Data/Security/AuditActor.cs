namespace Churn.Data.Security;

/// <summary>
/// Who made a change and from where, as the audit log records it: an API key's name and the client's IP address for
/// changes over HTTP, the operating-system user and this machine's host name for changes made by the <c>churn</c> command.
/// </summary>
public sealed record AuditActor(string Name, string? Address)
{
    /// <summary>A change made on this machine outside HTTP: <paramref name="name"/> (default: the operating-system user) at this host.</summary>
    public static AuditActor ThisMachine(string? name = null) => new(name ?? Environment.UserName, Environment.MachineName);
}
