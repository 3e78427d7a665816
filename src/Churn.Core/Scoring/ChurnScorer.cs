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
    private readonly bool _typicalComplete;
    private readonly CompiledModel? _compiled;
    private readonly RiskTiers _tiers;

    public ChurnScorer(ChurnModel model)
        : this(model, useCompiled: true)
    {
    }

    /// <summary>Tests compare the compiled path with the engines' by turning it off.</summary>
    internal ChurnScorer(ChurnModel model, bool useCompiled)
    {
        Model = model;
        _compiled = useCompiled ? model.Compiled : null;
        _tiers = model.Card.Tiers;
        Threshold = model.Card.Threshold;
        _pool = new DefaultObjectPool<EngineSet>(new EnginePolicy(model), Environment.ProcessorCount * 4);
        var typical = model.Card.Schema.Features.Select(f => TypicalValue(model.Card, f)).ToArray();
        _typical = new float[model.Encoder.Width];
        model.Encoder.Encode(typical, _typical);
        _typicalComplete = CompiledModel.CanScore(_typical);
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
        var count = Model.Encoder.Features.Count;
        var contributions = set.Contributions;
        // Compiled occlusion re-walks only the trees that use each feature; rows with a missing value take the engines.
        var occluded = _compiled is not null && _typicalComplete && CompiledModel.CanScore(slots);
        if (occluded)
        {
            _compiled!.Occlude(slots, _typical, set.Without, set.TreeOutputs, set.Work);
        }
        for (var f = 0; f < count; f++)
        {
            var feature = Model.Encoder.Features[f];
            var block = new Range(feature.Offset, feature.Offset + feature.Width);
            if (_typical.AsSpan(block).SequenceEqual(original.AsSpan(block)))
            {
                // At its typical value a feature explains nothing and is not listed.
                contributions[f] = double.NaN;
                continue;
            }
            double without;
            if (occluded)
            {
                without = Model.Calibration.Apply(set.Without[f]);
            }
            else
            {
                _typical.AsSpan(block).CopyTo(slots.AsSpan(block));
                without = Probability(set);
                original.AsSpan(block).CopyTo(slots.AsSpan(block));
            }
            contributions[f] = Math.Round(p - without, 6);
        }
        // The largest by magnitude, earlier features first on ties; only those chosen are formatted.
        var reasons = new List<Reason>(Math.Min(top, count));
        while (reasons.Count < top)
        {
            var best = -1;
            for (var f = 0; f < count; f++)
            {
                if (!double.IsNaN(contributions[f]) && (best < 0 || Math.Abs(contributions[f]) > Math.Abs(contributions[best])))
                {
                    best = f;
                }
            }
            if (best < 0)
            {
                break;
            }
            var value = values[best].IsMissing ? "(missing)" : values[best].ToString();
            reasons.Add(new Reason(Model.Encoder.Features[best].Name, value, contributions[best]));
            contributions[best] = double.NaN;
        }
        return reasons;
    }

    /// <summary>True when this model's scoring runs compiled (see <see cref="CompiledModel"/>) for rows without missing values.</summary>
    public bool IsCompiled => _compiled is not null;

    private double Probability(EngineSet set)
    {
        if (_compiled is { } compiled && CompiledModel.CanScore(set.Row.Features))
        {
            return Model.Calibration.Apply(compiled.RawScore(set.Row.Features));
        }
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
        public required float[] Work { get; init; }
        public required double[] Without { get; init; }
        public required double[] Contributions { get; init; }
        public required double[] TreeOutputs { get; init; }
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
            Work = new float[model.Encoder.Width],
            Without = new double[model.Encoder.Features.Count],
            Contributions = new double[model.Encoder.Features.Count],
            TreeOutputs = new double[model.Compiled?.TreeCount ?? 0],
            Trees = model.Trees is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Trees, inputSchemaDefinition: _schema),
            Linear = model.Linear is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Linear, inputSchemaDefinition: _schema),
        };

        public override bool Return(EngineSet obj) => true;
    }
}
