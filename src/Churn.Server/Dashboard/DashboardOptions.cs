using System.ComponentModel.DataAnnotations;

namespace Churn.Server.Dashboard;

/// <summary>The dashboard's first admin. Bound from the "Dashboard" section; the password also from CHURN_ADMIN_PASSWORD.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    [Required, RegularExpression("^[A-Za-z0-9._@-]{1,100}$")]
    public string AdminUser { get; set; } = "admin";

    /// <summary>When empty, a password is generated at first start and printed once.</summary>
    public string? AdminPassword { get; set; }
}
