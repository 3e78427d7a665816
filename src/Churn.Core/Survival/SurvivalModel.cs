using System.IO.Compression;
using Churn.Core.Features;
using Churn.Core.Models;
using Microsoft.ML;

namespace Churn.Core.Survival;

/// <summary>The probability of churning within one horizon.</summary>
/// <param name="Horizon">In the duration's unit.</param>
/// <param name="Probability">P(churn within the horizon | x, no churn so far).</param>
public sealed record HorizonRisk(double Horizon, double Probability)
{
    /// <summary>
    /// True when the horizon reaches past the longest time in the training data: the curve is held flat there, so the
    /// probability is a lower bound.
    /// </summary>
    public bool BeyondData { get; init; }
}

/// <summary>One point of a survival curve.</summary>
/// <param name="Time">In the duration's unit.</param>
/// <param name="Survival">S(time | x): the probability of not having churned by then.</param>
public sealed record SurvivalPoint(double Time, double Survival);

/// <summary>What a survival model says about one customer.</summary>
/// <param name="Elapsed">The customer's time so far that the forecast is conditional on (0 for a new customer).</param>
/// <param name="Horizons">P(churn within each horizon of the schema).</param>
/// <param name="Curve">The survival curve on the model's grid over the next last-horizon span, times counted from now.</param>
/// <param name="ExpectedLifetime">The restricted mean time without churn over the next last-horizon span, in the duration's unit.</param>
/// <param name="RevenueAtRisk">
/// Value per duration unit × (last horizon − expected lifetime): the revenue expected to be lost to churn within the last
/// horizon; null when the schema names no value column or the customer's value is missing.
/// </param>
public sealed record CustomerSurvival(double Elapsed, IReadOnlyList<HorizonRisk> Horizons, IReadOnlyList<SurvivalPoint> Curve, double ExpectedLifetime, double? RevenueAtRisk);

/// <summary>
/// A fitted survival model: the Cox baseline and, for the boosted method, the discrete-time hazard model, whose curves
/// are mixed at a weight chosen on held-out customers. Curves are on one time grid, from the start of the relationship.
/// </summary>
public sealed class SurvivalModel
{
    /// <summary>Builds a model; <paramref name="boosted"/> null means the Cox model alone.</summary>
    public SurvivalModel(SurvivalSchema schema, IReadOnlyList<double> grid, CoxModel cox, DiscreteHazardModel? boosted, double boostedWeight, IReadOnlyDictionary<string, string> parameters)
    {
        Schema = schema;
        Grid = grid;
        Cox = cox;
        Boosted = boosted;
        BoostedWeight = boosted is null ? 0 : boostedWeight;
        Parameters = parameters;
    }

    public SurvivalSchema Schema { get; }

    /// <summary>The grid times, ascending, in the duration's unit.</summary>
    public IReadOnlyList<double> Grid { get; }

    public CoxModel Cox { get; }

    public DiscreteHazardModel? Boosted { get; }

    /// <summary>The weight of the boosted curves in the mixture (0 for the Cox model alone).</summary>
    public double BoostedWeight { get; }

    /// <summary>How the model was trained, for the card.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    private SurvivalCard? _card;

    /// <summary>The model card; set by training (<see cref="WithCard"/>) or read from a package.</summary>
    public SurvivalCard Card => _card ?? throw new InvalidOperationException("The survival model has no card yet.");

    /// <summary>The same model carrying <paramref name="card"/>.</summary>
    public SurvivalModel WithCard(SurvivalCard card) => new(Schema, Grid, Cox, Boosted, BoostedWeight, Parameters) { _card = card };

    private const string CoxEntry = "cox.json";
    private const string HazardEntry = "hazard.json";
    private const string HazardModelEntry = "hazard.mlnet";

    /// <summary>Writes the package (one zip file: card, Cox state, and the boosted hazard when there is one) by atomic rename.</summary>
    public void Save(string path) => ChurnModel.WritePackage(path, zip =>
    {
        ChurnModel.WriteJson(zip, ChurnModel.CardFileName, Card);
        ChurnModel.WriteJson(zip, CoxEntry, new CoxState(Cox.Encoder, Cox.Means, Cox.Scales, Cox.Coefficients, Cox.EventTimes, Cox.CumulativeHazard));
        if (Boosted is not null)
        {
            ChurnModel.WriteJson(zip, HazardEntry, new HazardState(Boosted.Encoder, Boosted.Grid, Boosted.Trees));
            using var s = zip.CreateEntry(HazardModelEntry, CompressionLevel.Fastest).Open();
            Boosted.SaveTransformer(s);
        }
    });

    /// <summary>Loads a survival package; a missing, damaged or foreign file is refused with <see cref="ModelPackageException"/>.</summary>
    public static SurvivalModel Load(string path)
    {
        using var zip = ChurnModel.OpenZip(path);
        var card = ChurnModel.ReadJson<SurvivalCard>(zip, ChurnModel.CardFileName, path);
        if (card.Kind != "survival" || card.Format != SurvivalCard.CurrentFormat)
        {
            throw new ModelPackageException($"{path}: not a survival model package of format {SurvivalCard.CurrentFormat}.");
        }
        var schema = SurvivalSchema.Parse(card.Schema, path);
        var cox = ChurnModel.ReadJson<CoxState>(zip, CoxEntry, path);
        DiscreteHazardModel? boosted = null;
        if (zip.GetEntry(HazardEntry) is not null)
        {
            var state = ChurnModel.ReadJson<HazardState>(zip, HazardEntry, path);
            var ml = new MLContext(card.Seed);
            var transformer = ChurnModel.LoadTransformer(ml, zip, HazardModelEntry, path)
                ?? throw new ModelPackageException($"{path}: the boosted hazard model is missing ('{HazardModelEntry}').");
            boosted = new DiscreteHazardModel(ml, transformer, state.Encoder, state.Grid, state.Trees);
        }
        var model = new SurvivalModel(schema, card.Grid,
            new CoxModel(cox.Encoder, cox.Means, cox.Scales, cox.Coefficients, cox.EventTimes, cox.CumulativeHazard),
            boosted, card.BoostedWeight, card.Parameters);
        return model.WithCard(card);
    }

    private sealed record CoxState(FeatureEncoder Encoder, double[] Means, double[] Scales, double[] Coefficients, double[] EventTimes, double[] CumulativeHazard);

    private sealed record HazardState(FeatureEncoder Encoder, IReadOnlyList<double> Grid, int Trees);

    /// <summary>Survival curves of each row of a dataset read through <see cref="SurvivalSchema.Data"/>.</summary>
    public SurvivalCurves Predict(Dataset covariates)
    {
        var cox = Cox.Predict(covariates, Grid);
        return Boosted is null || BoostedWeight == 0 ? cox : SurvivalCurves.Blend(Boosted.Predict(covariates), cox, BoostedWeight);
    }

    /// <summary>The C-index, integrated Brier score and horizon calibration on data with known outcomes.</summary>
    public SurvivalEvaluation Evaluate(SurvivalData data) =>
        SurvivalMetrics.Evaluate(Predict(data.Covariates), data.Durations, data.Events, Schema.Horizons);

    /// <summary>
    /// Horizon probabilities, the curve, the expected lifetime and revenue at risk of each row. With
    /// <paramref name="elapsed"/> (each customer's time as a customer so far; NaN or null for a new customer), everything is
    /// conditional on not having churned by then: P(churn within h) = 1 − S(t0 + h) / S(t0), the curve is S(t0 + u) / S(t0)
    /// against u, and the expected lifetime is the restricted mean over the next horizon.
    /// </summary>
    public IReadOnlyList<CustomerSurvival> Forecast(Dataset covariates, IReadOnlyList<double>? elapsed = null)
    {
        var curves = Predict(covariates);
        var last = Schema.Horizons[^1];
        var end = Grid.Count == 0 ? 0 : Grid[^1];
        var values = Schema.ValueColumn is { } column && covariates.Schema.IndexOf(column) is >= 0 and var v ? covariates.Columns[v].Numbers : null;
        var result = new CustomerSurvival[curves.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var t0 = elapsed is { } e && double.IsFinite(e[i]) && e[i] > 0 ? e[i] : 0;
            var s0 = Math.Max(curves.At(i, t0), 1e-12);
            var horizons = Schema.Horizons.Select(h => new HorizonRisk(h, Math.Clamp(1 - curves.At(i, t0 + h) / s0, 0, 1)) { BeyondData = t0 + h > end }).ToArray();
            var curve = Grid.Select((t, k) => (t, k)).Where(p => p.t > t0 && p.t <= t0 + last)
                .Select(p => new SurvivalPoint(p.t - t0, Math.Min(1, curves.Values[i][p.k] / s0))).ToArray();
            var lifetime = Math.Min(last, (curves.RestrictedMean(i, t0 + last) - curves.RestrictedMean(i, t0)) / s0);
            double? revenue = values is { } money && double.IsFinite(money[i]) ? money[i] * (last - lifetime) : null;
            result[i] = new CustomerSurvival(t0, horizons, curve, lifetime, revenue);
        }
        return result;
    }
}
