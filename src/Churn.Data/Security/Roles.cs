namespace Churn.Data.Security;

/// <summary>The roles an API key or a dashboard user can hold.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Analyst = "analyst";
    public const string Service = "service";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Analyst, Service, Viewer];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
