using Churn.Core.Models;

namespace Churn.Data.Retraining;

/// <summary>The champion a retraining competes with: its registered name and version and the loaded model.</summary>
public sealed record RetrainChampion(string Name, int Version, ChurnModel Model);
