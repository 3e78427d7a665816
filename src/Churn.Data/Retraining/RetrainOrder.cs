using Churn.Data.Security;
using Churn.Data.Tracking;

namespace Churn.Data.Retraining;

/// <summary>
/// A request to retrain, the same from every place that asks (<c>POST /retrain</c>, the dashboard, the schedule,
/// monitoring and <c>churn retrain</c>): why (<paramref name="Trigger"/>, <paramref name="Reason"/>), who asked, an optional
/// training seed, the reference data file (null: the champion's own training file under the data directory), and an optional
/// generated <paramref name="Sample"/> that replaces the reference rows in training (demos, tests). The held-out rows
/// always come from the reference data and feedback.
/// </summary>
public sealed record RetrainOrder(
    RunTrigger Trigger, AuditActor RequestedBy, string Reason, int? Seed = null, string? ReferencePath = null, GeneratedSample? Sample = null);
