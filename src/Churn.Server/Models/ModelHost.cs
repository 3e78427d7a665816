using Churn.Core.Models;
using Churn.Core.Schema;
using Churn.Core.Scoring;

namespace Churn.Server.Models;

/// <summary>A loaded, warmed-up model version ready to score.</summary>
public sealed record ServingModel(string Name, int Version, ChurnScorer Scorer, DateTimeOffset LoadedAt)
{
    public ModelCard Card => Scorer.Model.Card;

    public DatasetSchema Schema => Scorer.Schema;
}

/// <summary>Thrown when a request needs the model before one is loaded.</summary>
public sealed class ModelNotReadyException() : Exception("No model is loaded yet; the server is starting.");

/// <summary>
/// Holds the serving model. A request reads the reference once and scores with that snapshot, so swapping in a
/// new version (promote, rollback) never fails or mixes versions within a request: old requests finish on the
/// old scorer, new ones start on the new one.
/// </summary>
public sealed class ModelHost
{
    private ServingModel? current;

    public ServingModel? Current => Volatile.Read(ref current);

    public bool IsReady => Current is not null;

    public ServingModel Require() => Current ?? throw new ModelNotReadyException();

    /// <summary>Publishes <paramref name="next"/> and returns the model it replaced.</summary>
    public ServingModel? Swap(ServingModel next) => Interlocked.Exchange(ref current, next);
}
