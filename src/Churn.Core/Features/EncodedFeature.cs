using System.Text.Json.Serialization;

namespace Churn.Core.Features;

/// <summary>How one schema feature maps to model slots.</summary>
public sealed record EncodedFeature
{
    public required string Name { get; init; }
    public required FeatureKind Kind { get; init; }

    /// <summary>First slot of this feature in the encoded vector.</summary>
    public required int Offset { get; init; }

    /// <summary>Known categories, most frequent first (categorical only); each gets one slot.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Slots used: 1 for numbers and booleans, one per known category plus one for "other".</summary>
    [JsonIgnore]
    public int Width => Kind == FeatureKind.Categorical ? Categories.Count + 1 : 1;
}
