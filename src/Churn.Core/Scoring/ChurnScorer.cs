using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Schema;
using Churn.Core.Training;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace Churn.Core.Scoring;

/// <summary>A feature's part in one prediction: how much it moved the probability from a typical customer's value.</summary>
public sealed record Reason(string Feature, string Value, double Contribution);

/// <summary>The outcome of scoring one customer.</summary>
public sealed record ScoreResult(double Probability, bool WillChurn, string RiskTier, IReadOnlyList<Reason> Reasons, IReadOnlyList<string> UnseenCategories);

/// <summary>A value that does not fit its feature's kind; names the feature.</summary>
public sealed class FeatureValueException(int featureIndex, string feature, string problem)
    : Exception($"'{feature}' {problem}.")
{
    public int FeatureIndex { get; } = featureIndex;
    public string Feature { get; } = feature;
    public string Problem { get; } = problem;
}

/// <summary>
/// Scores single customers and small batches against one loaded model, from any number of threads.
/// ML.NET prediction engines are not thread-safe, so each call borrows a set from a pool.
/// Reasons come from occlusion: each feature in turn is set to the training data's typical value
/// (median or most common category) and the change in calibrated probability is its contribution.
/// This works the same for trees, the linear model and their blend.
/// </summary>
public sealed class ChurnScorer
{
    private readonly ObjectPool<EngineSet> _pool;
    private readonly float[] _typical;
    private readonly RiskTiers _tiers;

    public ChurnScorer(ChurnModel model)
    {
        Model = model;
        _tiers = model.Card.Tiers;
        Threshold = model.Card.Threshold;
        _pool = new DefaultObjectPool<EngineSet>(new EnginePolicy(model), Environment.ProcessorCount * 4);
        var typical = model.Card.Schema.Features.Select(f => TypicalValue(model.Card, f)).ToArray();
        _typical = new float[model.Encoder.Width];
        model.Encoder.Encode(typical, _typical);
    }

    public ChurnModel Model { get; }
    public double Threshold { get; }
    public DatasetSchema Schema => Model.Card.Schema;

    /// <summary>Scores one customer (values in schema order) with up to <paramref name="reasons"/> reasons.</summary>
    public ScoreResult Score(ReadOnlySpan<FeatureValue> values, int reasons = 5)
    {
        var set = _pool.Get();
        try
        {
            var slots = set.Row.Features;
            var outcome = Model.Encoder.Encode(values, slots);
            if (outcome.HasError)
            {
                throw new FeatureValueException(outcome.ErrorFeature, Schema.Features[outcome.ErrorFeature].Name, outcome.FirstError!);
            }
            var p = Probability(set);
            var explained = reasons > 0 ? Explain(set, values, p, reasons) : [];
            var unseen = new List<string>();
            for (var f = 0; f < Math.Min(63, Schema.Features.Count); f++)
            {
                if ((outcome.UnseenMask & (1L << f)) != 0)
                {
                    unseen.Add(Schema.Features[f].Name);
                }
            }
            return new ScoreResult(p, p >= Threshold, _tiers.Of(p), explained, unseen);
        }
        finally
        {
            _pool.Return(set);
        }
    }

    /// <summary>Runs <paramref name="rows"/> predictions on typical values so the first real requests are not slow.</summary>
    public void WarmUp(int rows = 2000)
    {
        var typical = Schema.Features.Select(f => TypicalValue(Model.Card, f)).ToArray();
        for (var i = 0; i < rows; i++)
        {
            Score(typical, reasons: i % 10 == 0 ? 3 : 0);
        }
    }

    private IReadOnlyList<Reason> Explain(EngineSet set, ReadOnlySpan<FeatureValue> values, double p, int top)
    {
        var slots = set.Row.Features;
        var original = set.Scratch;
        slots.CopyTo(original, 0);
        var reasons = new List<Reason>(Model.Encoder.Features.Count);
        for (var f = 0; f < Model.Encoder.Features.Count; f++)
        {
            var feature = Model.Encoder.Features[f];
            var block = new Range(feature.Offset, feature.Offset + feature.Width);
            if (_typical.AsSpan(block).SequenceEqual(original.AsSpan(block)))
            {
                continue;
            }
            _typical.AsSpan(block).CopyTo(slots.AsSpan(block));
            var without = Probability(set);
            original.AsSpan(block).CopyTo(slots.AsSpan(block));
            var value = values[f].IsMissing ? "(missing)" : values[f].ToString();
            reasons.Add(new Reason(feature.Name, value, Math.Round(p - without, 6)));
        }
        return [.. reasons.OrderByDescending(r => Math.Abs(r.Contribution)).Take(top)];
    }

    private double Probability(EngineSet set)
    {
        var tree = set.Trees?.Predict(set.Row).Probability ?? 0;
        var linear = set.Linear?.Predict(set.Row).Probability ?? 0;
        return Model.Calibration.Apply(ChurnModel.RawScore(tree, linear, Model.TreeWeight));
    }

    private static FeatureValue TypicalValue(ModelCard card, FeatureSpec spec)
    {
        var profile = card.Reference.FirstOrDefault(p => p.Name == spec.Name);
        return spec.Kind switch
        {
            FeatureKind.Categorical => FeatureValue.Of(profile?.Mode),
            FeatureKind.Boolean => profile?.Mode is { } m ? FeatureValue.Of(m) : FeatureValue.Missing,
            _ => profile?.Median is { } median ? FeatureValue.Of(median) : FeatureValue.Missing,
        };
    }

    private sealed class EngineSet
    {
        public required EncodedRow Row { get; init; }
        public required float[] Scratch { get; init; }
        public PredictionEngine<EncodedRow, ScoredRow>? Trees { get; init; }
        public PredictionEngine<EncodedRow, ScoredRow>? Linear { get; init; }
    }

    private sealed class EnginePolicy(ChurnModel model) : PooledObjectPolicy<EngineSet>
    {
        private readonly Microsoft.ML.Data.SchemaDefinition _schema = Learners.CreateSchema(model.Encoder.Width);

        public override EngineSet Create() => new()
        {
            Row = new EncodedRow { Features = new float[model.Encoder.Width] },
            Scratch = new float[model.Encoder.Width],
            Trees = model.Trees is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Trees, inputSchemaDefinition: _schema),
            Linear = model.Linear is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Linear, inputSchemaDefinition: _schema),
        };

        public override bool Return(EngineSet obj) => true;
    }
}
