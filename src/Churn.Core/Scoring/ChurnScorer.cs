using Churn.Core.Models;
using Churn.Core.Training;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace Churn.Core.Scoring;

/// <summary>
/// A feature's part in one prediction: its exact SHAP value (see <see cref="ChurnModel.Explain"/>), in the unit the
/// <see cref="ScoreResult"/> names. A category's one-hot slots count as one feature.
/// </summary>
public sealed record Reason(string Feature, string Value, double Contribution);

/// <summary>
/// The outcome of scoring one customer. <paramref name="Reasons"/> are the features with the largest contributions by
/// magnitude; with all of them, <c><paramref name="BaseValue"/> + Σ contributions</c> is the prediction's log-odds in
/// <paramref name="ContributionUnit"/>. Both are null when no reasons were asked for or the model cannot explain.
/// </summary>
public sealed record ScoreResult(double Probability, bool WillChurn, string RiskTier, IReadOnlyList<Reason> Reasons, IReadOnlyList<string> UnseenCategories,
    double? BaseValue = null, string? ContributionUnit = null);

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
/// Reasons are exact SHAP values (ADR 0004): path-dependent TreeSHAP for the trees and the exact linear attribution
/// for the logistic model, combined in the blend's log-odds and carried through Platt calibration.
/// </summary>
public sealed class ChurnScorer
{
    private readonly ObjectPool<EngineSet> _pool;
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
    }

    /// <summary>The number of reasons that asks for every feature's contribution.</summary>
    public const int AllReasons = int.MaxValue;

    public ChurnModel Model { get; }
    public double Threshold { get; }
    public DatasetSchema Schema => Model.Card.Schema;

    /// <summary>
    /// Scores one customer (values in schema order) with up to <paramref name="reasons"/> reasons, the largest
    /// contributions by magnitude first (<see cref="int.MaxValue"/> for every feature).
    /// </summary>
    /// <exception cref="FeatureValueException">A value does not fit its feature's kind.</exception>
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
            var unseen = Unseen(outcome.UnseenMask);
            if (reasons > 0 && _compiled is { CanExplain: true } compiled && compiled.Accepts(slots))
            {
                // The explanation walks every tree anyway; the probability is read off the same walk.
                var explained = Model.Calibration.Apply(compiled.Explain(slots, set.Contributions, set.Scratch));
                return new ScoreResult(explained, explained >= Threshold, _tiers.Of(explained), Top(set.Contributions, values, reasons), unseen, compiled.BaseValue, compiled.Unit);
            }
            var p = Probability(set);
            return new ScoreResult(p, p >= Threshold, _tiers.Of(p), [], unseen);
        }
        finally
        {
            _pool.Return(set);
        }
    }

    private IReadOnlyList<string> Unseen(long mask)
    {
        if (mask == 0)
        {
            return [];
        }
        var unseen = new List<string>();
        for (var f = 0; f < Math.Min(63, Schema.Features.Count); f++)
        {
            if ((mask & (1L << f)) != 0)
            {
                unseen.Add(Schema.Features[f].Name);
            }
        }
        return unseen;
    }

    /// <summary>Runs <paramref name="rows"/> predictions on the typical customer so the first real requests are not slow.</summary>
    public void WarmUp(int rows = 2000)
    {
        var typical = Model.Card.TypicalCustomer();
        for (var i = 0; i < rows; i++)
        {
            Score(typical, reasons: i % 10 == 0 ? 3 : 0);
        }
    }

    private List<Reason> Top(double[] contributions, ReadOnlySpan<FeatureValue> values, int top)
    {
        // The largest by magnitude, earlier features first on ties; only those chosen are formatted.
        var count = contributions.Length;
        var reasons = new List<Reason>(Math.Min(top, count));
        Span<bool> taken = stackalloc bool[count <= 512 ? count : 0];
        if (taken.Length != count)
        {
            taken = new bool[count];
        }
        while (reasons.Count < Math.Min(top, count))
        {
            var best = -1;
            for (var f = 0; f < count; f++)
            {
                if (!taken[f] && (best < 0 || Math.Abs(contributions[f]) > Math.Abs(contributions[best])))
                {
                    best = f;
                }
            }
            taken[best] = true;
            var value = values[best].IsMissing ? "(missing)" : values[best].ToString();
            reasons.Add(new Reason(Model.Encoder.Features[best].Name, value, contributions[best]));
        }
        return reasons;
    }

    /// <summary>True when this model's scoring runs compiled (see <see cref="CompiledModel"/>).</summary>
    public bool IsCompiled => _compiled is not null;

    private double Probability(EngineSet set)
    {
        if (_compiled is { } compiled && compiled.Accepts(set.Row.Features))
        {
            return Model.Calibration.Apply(compiled.RawScore(set.Row.Features));
        }
        var tree = set.Trees?.Predict(set.Row).Probability ?? 0;
        var linear = set.Linear?.Predict(set.Row).Probability ?? 0;
        return Model.Calibration.Apply(ChurnModel.RawScore(tree, linear, Model.TreeWeight));
    }

    private sealed class EngineSet
    {
        public required EncodedRow Row { get; init; }
        public required double[] Contributions { get; init; }
        public required double[] Scratch { get; init; }
        public PredictionEngine<EncodedRow, ScoredRow>? Trees { get; init; }
        public PredictionEngine<EncodedRow, ScoredRow>? Linear { get; init; }
    }

    private sealed class EnginePolicy(ChurnModel model) : PooledObjectPolicy<EngineSet>
    {
        private readonly Microsoft.ML.Data.SchemaDefinition _schema = Learners.CreateSchema(model.Encoder.Width);

        public override EngineSet Create() => new()
        {
            Row = new EncodedRow { Features = new float[model.Encoder.Width] },
            Contributions = new double[model.Encoder.Features.Count],
            Scratch = new double[model.Encoder.Features.Count],
            Trees = model.Trees is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Trees, inputSchemaDefinition: _schema),
            Linear = model.Linear is null ? null : model.Ml.Model.CreatePredictionEngine<EncodedRow, ScoredRow>(model.Linear, inputSchemaDefinition: _schema),
        };

        public override bool Return(EngineSet obj) => true;
    }
}
