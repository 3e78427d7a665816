namespace Churn.Testing;

/// <summary>
/// Environment variables that keep a server started as a replica process or a container quick and out of a test's way:
/// a first model trained on 800 generated rows, 20 rows to warm the model with, no warm-up of the request path, and a
/// rate limit no test reaches by accident (a test about rate limits sets its own).
/// </summary>
public static class QuickServerEnvironment
{
    /// <summary>The variables (<c>Churn__SampleRows</c> and so on), to copy into a process's or container's environment.</summary>
    public static IReadOnlyDictionary<string, string> Variables { get; } = new Dictionary<string, string>
    {
        ["Churn__SampleRows"] = "800",
        ["Churn__WarmUpRows"] = "20",
        ["Churn__RequestWarmUpSeconds"] = "0",
        ["Churn__Api__rate_limit"] = "1000000",
    };
}
