using System.ComponentModel.DataAnnotations;

namespace Churn.Server.Dashboard;

/// <summary>The dashboard's first admin and its sign-in lockout. Bound from the "Dashboard" section; the password also from CHURN_ADMIN_PASSWORD.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    [Required, RegularExpression("^[A-Za-z0-9._@-]{1,100}$")]
    public string AdminUser { get; set; } = "admin";

    /// <summary>When empty, a password is generated at first start and printed once.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>Failed sign-ins for one user name within <see cref="Lockout"/> before that name is locked out.</summary>
    [Range(1, 1000)]
    public int FailuresPerUser { get; set; } = 5;

    /// <summary>
    /// Failed sign-ins from one client address (any user names) within <see cref="Lockout"/> before that address is
    /// locked out. Higher than the per-user limit, since several people may share an office's address.
    /// </summary>
    [Range(1, 100_000)]
    public int FailuresPerAddress { get; set; } = 20;

    /// <summary>How long failures are remembered and how long a lockout lasts.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(15);
}
