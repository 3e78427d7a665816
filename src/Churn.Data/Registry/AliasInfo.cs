namespace Churn.Data.Registry;

/// <summary>Where an alias of a model points now.</summary>
public sealed record AliasInfo(string ModelName, string Alias, int Version);
