using System.Threading.Channels;
using Churn.Core.Data;
using Churn.Data;
using Churn.Data.Monitoring;
using Churn.Data.Registry;
using Churn.Server.Models;

namespace Churn.Server.Predictions;

/// <summary>A live prediction waiting to be scored again by the challenger.</summary>
public sealed record ShadowItem(Guid PredictionId, DateTimeOffset Time, string ModelName, int ChampionVersion, FeatureValue[] Values, double Probability, bool WillChurn, string Tier);

/// <summary>What the shadow queue has seen since the server started.</summary>
public sealed record ShadowCounters(long Offered, long Dropped, long Scored, long WithoutChallenger);

/// <summary>
/// The bounded buffer between live requests and the challenger. A request only samples (<c>model.shadow_share</c>) and
/// tries to enqueue; when the buffer is full the item is dropped and counted, so shadow scoring never slows a request.
/// </summary>
public sealed class ShadowQueue(RuntimeSettings settings)
{
    public const int Capacity = 1000;

    private readonly Channel<ShadowItem> channel = Channel.CreateBounded<ShadowItem>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private long offered;
    private long dropped;
    private long scored;
    private long withoutChallenger;

    public ChannelReader<ShadowItem> Reader => channel.Reader;

    public ShadowCounters Counters => new(Interlocked.Read(ref offered), Interlocked.Read(ref dropped), Interlocked.Read(ref scored), Interlocked.Read(ref withoutChallenger));

    public void Offer(ServingModel champion, CustomerInput input, PredictionResponse response, DateTimeOffset time)
    {
        var share = settings.Model.ShadowShare;
        if (share <= 0 || (share < 1 && Random.Shared.NextDouble() >= share))
        {
            return;
        }
        Interlocked.Increment(ref offered);
        var item = new ShadowItem(response.PredictionId, time, champion.Name, champion.Version, input.Values,
            response.ChurnProbability, response.WillChurn, response.RiskTier);
        if (!channel.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref dropped);
        }
    }

    internal void CountScored(int count) => Interlocked.Add(ref scored, count);

    internal void CountWithoutChallenger(int count) => Interlocked.Add(ref withoutChallenger, count);
}

/// <summary>
/// Scores sampled live predictions with the challenger off the request path and stores both answers side by side.
/// The challenger is looked up per batch and loaded once per version; with no challenger (or one that is the champion)
/// the items are counted and let go. A failed batch is logged and the next one runs.
/// </summary>
public sealed class ShadowScoringJob(ShadowQueue queue, ModelRegistry registry, ModelLoader loader, StoreFactory store, ILogger<ShadowScoringJob> log)
    : BackgroundService
{
    private const int BatchSize = 200;
    private ServingModel? challenger;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ShadowItem>(BatchSize);
        while (await queue.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < BatchSize && queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            try
            {
                await ScoreAsync(batch, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(ex, "Shadow scoring of {Count} predictions failed; they are not compared.", batch.Count);
            }
        }
    }

    private async Task ScoreAsync(List<ShadowItem> batch, CancellationToken ct)
    {
        var name = batch[0].ModelName;
        var alias = await registry.ResolveAliasAsync(name, ModelAliases.Challenger, ct);
        var scoring = batch.Where(i => alias is not null && i.ModelName == name && i.ChampionVersion != alias.Version).ToList();
        queue.CountWithoutChallenger(batch.Count - scoring.Count);
        if (scoring.Count == 0 || alias is null)
        {
            return;
        }
        if (challenger is null || challenger.Name != alias.ModelName || challenger.Version != alias.Version)
        {
            challenger = await loader.LoadAsync(alias, ct);
        }
        var rows = scoring.Select(i =>
        {
            var result = challenger.Scorer.Score(i.Values, reasons: 0);
            return new ShadowPrediction
            {
                Time = i.Time,
                ModelName = name,
                PredictionId = i.PredictionId,
                ChampionVersion = i.ChampionVersion,
                ChallengerVersion = challenger.Version,
                ChampionProbability = i.Probability,
                ChallengerProbability = result.Probability,
                ChampionWillChurn = i.WillChurn,
                ChallengerWillChurn = result.WillChurn,
                ChampionTier = i.Tier,
                ChallengerTier = result.RiskTier,
            };
        }).ToList();
        await using var db = store.CreateDbContext();
        db.ShadowPredictions.AddRange(rows);
        await db.SaveChangesAsync(ct);
        queue.CountScored(rows.Count);
    }
}
