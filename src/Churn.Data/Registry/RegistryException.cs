namespace Churn.Data;

/// <summary>A store request that cannot be honoured as asked; the message is one sentence for the user.</summary>
public class StoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A registry or tracking request that cannot be honoured as asked (unknown model, bad name, ended run).</summary>
public class RegistryException(string message, Exception? inner = null) : StoreException(message, inner);

/// <summary>An alias kept moving under us: another promotion won every round we tried.</summary>
public sealed class AliasConflictException(string message, Exception? inner = null) : RegistryException(message, inner);

/// <summary>A version's package file is missing or does not hash to what was registered.</summary>
public sealed class ModelIntegrityException(string message) : RegistryException(message);
