namespace Churn.Server.Models;

/// <summary>What start-up wants the operator to see once (the banner prints it).</summary>
public sealed class StartupNotes
{
    /// <summary>The admin key generated at first start; null when it came from configuration or already existed.</summary>
    public string? GeneratedAdminKey { get; set; }

    public bool TrainedFirstModel { get; set; }

    /// <summary>The dashboard admin's name and, when it was generated at this start, its password.</summary>
    public string? DashboardAdminUser { get; set; }

    public string? GeneratedAdminPassword { get; set; }
}
