namespace Churn.Server.Predictions;

/// <summary>Where the prediction log is written: the store, unless a test points it at another database.</summary>
public sealed class PredictionLogTarget(StoreFactory store)
{
    public StoreFactory Store { get; } = store;
}
