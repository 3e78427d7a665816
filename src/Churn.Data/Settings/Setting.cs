namespace Churn.Data.Settings;

/// <summary>A runtime setting changed through the API or dashboard (thresholds, schedules), kept with who changed it.</summary>
public sealed class Setting
{
    public required string Key { get; set; }
    public string ValueJson { get; set; } = "null";
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}
