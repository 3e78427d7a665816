using System.Globalization;
using Churn.Core.Data;
using Churn.Core.Schema;
using Churn.Core.Survival;
using Churn.Data;
using Churn.Data.Registry;
using Churn.Server.Predictions;

namespace Churn.Server.Survival;

/// <summary>Which survival model the server follows: the champion of this name is served beside the classifier.</summary>
public sealed class SurvivalServingOptions
{
    public const string Section = "Churn:Survival";

    /// <summary>The registered name of the survival model (see <c>churn survival train --name</c>).</summary>
    public string ModelName { get; set; } = SurvivalOptions.DefaultModelName;
}

/// <summary>A loaded survival champion.</summary>
public sealed record ServingSurvival(string Name, int Version, SurvivalModel Model);

/// <summary>
/// Holds the survival champion when one exists. Requests read the reference once, so a swap never mixes versions within
/// a request; with no champion, predictions simply carry no <c>survival</c> object.
/// </summary>
public sealed class SurvivalHost
{
    private ServingSurvival? current;

    public ServingSurvival? Current => Volatile.Read(ref current);

    public void Swap(ServingSurvival? next) => Interlocked.Exchange(ref current, next);

    /// <summary>
    /// Adds a field error for each customer whose time so far (the survival champion's duration column, when the request
    /// carries it) is negative: an outlook conditional on a negative age means nothing, so the request is refused rather
    /// than read as a new customer. <paramref name="featuresPath"/> gives the path of customer i's features object
    /// (<c>features</c>, or <c>customers[i].features</c> in a batch). Does nothing without a survival champion.
    /// </summary>
    public void Check(DatasetSchema requestSchema, IReadOnlyList<CustomerInput> inputs, Func<int, string> featuresPath, FieldErrors errors)
    {
        if (Current is not { } serving || requestSchema.IndexOf(serving.Model.Schema.DurationColumn) is var index && index < 0)
        {
            return;
        }
        var duration = serving.Model.Schema.DurationColumn;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (ValueParser.TryNumber(inputs[i].Values[index], out var elapsed) && elapsed < 0)
            {
                errors.Add($"{featuresPath(i)}.{duration}", string.Create(CultureInfo.InvariantCulture,
                    $"is {elapsed}: it is the customer's time so far (the survival model's duration column) and cannot be negative."));
            }
        }
    }

    /// <summary>
    /// The survival outlook of validated customers (values in the classifier schema's order): horizon probabilities,
    /// the curve, expected lifetime and revenue at risk, conditional on the customer's time so far when the request
    /// carries the duration column. Null when no survival champion is loaded.
    /// </summary>
    public IReadOnlyList<SurvivalResponse>? Forecast(DatasetSchema requestSchema, IReadOnlyList<CustomerInput> inputs)
    {
        if (Current is not { } serving)
        {
            return null;
        }
        var (covariates, elapsed) = SurvivalInputs.FromRows(serving.Model.Schema, requestSchema, [.. inputs.Select(i => i.Values)]);
        return [.. serving.Model.Forecast(covariates, elapsed).Select(f => SurvivalResponse.From(serving, f))];
    }
}

/// <summary>Loads the survival champion at start and follows its alias (promote, rollback) on the champion poll interval.</summary>
public sealed class SurvivalChampionJob(
    SurvivalHost host, ModelRegistry registry, IOptions<SurvivalServingOptions> survival, IOptions<ServerOptions> server, TimeProvider time,
    ILogger<SurvivalChampionJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(server.Value.ChampionPollInterval, time);
        do
        {
            try
            {
                await FollowAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An unreadable package or a store hiccup leaves the current survival model (or none) in place.
                log.LogWarning(ex, "Could not follow the survival champion of {Model}.", survival.Value.ModelName);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task FollowAsync(CancellationToken ct)
    {
        var name = survival.Value.ModelName;
        var champion = await registry.ResolveAliasAsync(name, ModelAliases.Champion, ct);
        if (champion is null)
        {
            host.Swap(null);
            return;
        }
        if (host.Current is { } serving && serving.Version == champion.Version)
        {
            return;
        }
        var path = registry.PackagePath(champion, verifySha256: true);
        var model = await Task.Run(() => SurvivalModel.Load(path), ct);
        host.Swap(new ServingSurvival(champion.ModelName, champion.Version, model));
        log.LogInformation("Serving survival model {Model} v{Version}.", champion.ModelName, champion.Version);
    }
}

/// <summary>Registration of the survival serving feature.</summary>
public static class SurvivalServing
{
    public static IHostApplicationBuilder AddSurvival(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SurvivalServingOptions>().BindConfiguration(SurvivalServingOptions.Section);
        builder.Services.AddSingleton<SurvivalHost>();
        builder.Services.AddHostedService<SurvivalChampionJob>();
        return builder;
    }
}

/// <summary>The <c>survival</c> object of a prediction: when this customer is likely to churn and what that costs.</summary>
/// <param name="ModelName">The survival model's registered name.</param>
/// <param name="ModelVersion">Its version.</param>
/// <param name="Elapsed">The customer's time so far (the request's duration column; 0 when absent) the outlook is conditional on.</param>
/// <param name="Horizons">P(churn within each horizon), in the duration's unit.</param>
/// <param name="ExpectedLifetime">Expected time without churn over the next last-horizon span.</param>
/// <param name="RevenueAtRisk">Value per duration unit × the expected time lost to churn within the last horizon; null without a value column.</param>
/// <param name="Curve">The survival curve from now, at the model's grid times.</param>
public sealed record SurvivalResponse(
    string ModelName, int ModelVersion, double Elapsed, IReadOnlyList<SurvivalHorizonResponse> Horizons, double ExpectedLifetime, double? RevenueAtRisk,
    IReadOnlyList<SurvivalPointResponse> Curve)
{
    /// <summary>The wire form of one customer's outlook: probabilities to 6 decimals, the lifetime to 4, money to 2.</summary>
    public static SurvivalResponse From(ServingSurvival serving, CustomerSurvival f) => new(
        serving.Name,
        serving.Version,
        f.Elapsed,
        [.. f.Horizons.Select(h => new SurvivalHorizonResponse(h.Horizon, Math.Round(h.Probability, 6), h.BeyondData))],
        Math.Round(f.ExpectedLifetime, 4),
        f.RevenueAtRisk is { } r ? Math.Round(r, 2) : null,
        [.. f.Curve.Select(p => new SurvivalPointResponse(p.Time, Math.Round(p.Survival, 6)))]);
}

/// <summary>One horizon of a <see cref="SurvivalResponse"/>; <paramref name="BeyondData"/> marks a horizon past the longest time in the training data (a lower bound).</summary>
public sealed record SurvivalHorizonResponse(double Horizon, double Probability, bool BeyondData);

/// <summary>One point of a survival curve: time from now and the probability of not having churned by then.</summary>
public sealed record SurvivalPointResponse(double Time, double Survival);
