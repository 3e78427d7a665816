namespace Churn.Data.Security;

/// <summary>
/// Failed dashboard sign-ins counted for one user name or client address, in the store so that every replica sharing
/// it draws on the same allowance (used when no Redis is configured). The row holds the failures of the current window
/// and, once they reached the limit, the end of the lockout; the rule itself (limits, window) is the server's.
/// </summary>
public sealed class SignInCounter
{
    /// <summary>"user" or "address".</summary>
    public required string Kind { get; set; }

    /// <summary>The case-folded user name or the client address (at most 200 characters; longer names are hashed first).</summary>
    public required string Key { get; set; }

    /// <summary>Failures counted since the window opened.</summary>
    public int Failures { get; set; }

    /// <summary>When the current window closes; a failure after it opens a new one.</summary>
    public DateTimeOffset WindowEnds { get; set; }

    /// <summary>Until when signing in is refused; null or past when it is not.</summary>
    public DateTimeOffset? LockedUntil { get; set; }
}
