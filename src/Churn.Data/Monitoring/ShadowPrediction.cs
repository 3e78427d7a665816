namespace Churn.Data.Monitoring;

/// <summary>
/// A live prediction scored again by the challenger off the request path (shadow scoring), beside the champion's answer.
/// <see cref="PredictionId"/> is the champion's logged prediction, so feedback on it labels both models' scores.
/// </summary>
public sealed class ShadowPrediction
{
    public long Id { get; set; }
    public DateTimeOffset Time { get; set; }
    public required string ModelName { get; set; }
    public Guid PredictionId { get; set; }
    public int ChampionVersion { get; set; }
    public int ChallengerVersion { get; set; }
    public double ChampionProbability { get; set; }
    public double ChallengerProbability { get; set; }
    public bool ChampionWillChurn { get; set; }
    public bool ChallengerWillChurn { get; set; }
    public required string ChampionTier { get; set; }
    public required string ChallengerTier { get; set; }
}
