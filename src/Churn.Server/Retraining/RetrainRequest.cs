namespace Churn.Server.Retraining;

/// <summary>
/// Optional body of <c>POST /retrain</c>. Without one the challenger trains on the reference data plus labelled feedback;
/// <c>rows</c>/<c>drift</c> replace the reference data by a generated sample, <c>seed</c> seeds the training.
/// </summary>
public sealed record RetrainRequest(int? Rows, int? Seed, double? Drift);
