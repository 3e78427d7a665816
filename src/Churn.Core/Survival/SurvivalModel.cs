using Churn.Core.Data;

namespace Churn.Core.Survival;

/// <summary>The probability of churning within one horizon.</summary>
/// <param name="Horizon">In the duration's unit.</param>
/// <param name="Probability">P(T ≤ horizon | x) = 1 − S(horizon | x).</param>
public sealed record HorizonRisk(double Horizon, double Probability);

/// <summary>One point of a survival curve.</summary>
/// <param name="Time">In the duration's unit.</param>
/// <param name="Survival">S(time | x): the probability of not having churned by then.</param>
public sealed record SurvivalPoint(double Time, double Survival);

/// <summary>What a survival model says about one customer.</summary>
/// <param name="Horizons">P(churn within each horizon of the schema).</param>
/// <param name="Curve">The survival curve on the model's grid up to the last horizon.</param>
/// <param name="ExpectedLifetime">The restricted mean time without churn over [0, last horizon], in the duration's unit.</param>
/// <param name="RevenueAtRisk">
/// Value per duration unit × (last horizon − expected lifetime): the revenue expected to be lost to churn within the last
/// horizon; null when the schema names no value column or the customer's value is missing.
/// </param>
public sealed record CustomerSurvival(IReadOnlyList<HorizonRisk> Horizons, IReadOnlyList<SurvivalPoint> Curve, double ExpectedLifetime, double? RevenueAtRisk);

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

    /// <summary>Survival curves of each row of a dataset read through <see cref="SurvivalSchema.Data"/>.</summary>
    public SurvivalCurves Predict(Dataset covariates)
    {
        var cox = Cox.Predict(covariates, Grid);
        return Boosted is null || BoostedWeight == 0 ? cox : SurvivalCurves.Blend(Boosted.Predict(covariates), cox, BoostedWeight);
    }

    /// <summary>The C-index, integrated Brier score and horizon calibration on data with known outcomes.</summary>
    public SurvivalEvaluation Evaluate(SurvivalData data) =>
        SurvivalMetrics.Evaluate(Predict(data.Covariates), data.Durations, data.Events, Schema.Horizons);

    /// <summary>Horizon probabilities, the curve, the expected lifetime and revenue at risk of each row.</summary>
    public IReadOnlyList<CustomerSurvival> Forecast(Dataset covariates)
    {
        var curves = Predict(covariates);
        var last = Schema.Horizons[^1];
        var values = Schema.ValueColumn is { } column ? covariates.Columns[covariates.Schema.IndexOf(column)].Numbers : null;
        var result = new CustomerSurvival[curves.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var horizons = Schema.Horizons.Select(h => new HorizonRisk(h, 1 - curves.At(i, h))).ToArray();
            var curve = Grid.Select((t, k) => (t, k)).Where(p => p.t <= last).Select(p => new SurvivalPoint(p.t, curves.Values[i][p.k])).ToArray();
            var lifetime = curves.RestrictedMean(i, last);
            double? revenue = values is { } v && double.IsFinite(v[i]) ? v[i] * (last - lifetime) : null;
            result[i] = new CustomerSurvival(horizons, curve, lifetime, revenue);
        }
        return result;
    }
}
