using System.Text.Json.Serialization;

namespace Churn.Core.Drift;

/// <summary>What the drift check concluded for one feature; written in JSON as the lower-case words shown.</summary>
public enum FeatureVerdict
{
    /// <summary>"stable": tested, no drift.</summary>
    [JsonStringEnumMemberName("stable")]
    Stable,

    /// <summary>"drifted": tested, drift.</summary>
    [JsonStringEnumMemberName("drifted")]
    Drifted,

    /// <summary>"no values": every current row is missing the feature, so there is nothing to test (a broken feed, not stability).</summary>
    [JsonStringEnumMemberName("no values")]
    NoValues,

    /// <summary>"too few values": fewer current values than the test's minimum, or expected counts too small for chi-squared.</summary>
    [JsonStringEnumMemberName("too few values")]
    TooFewValues,
}
