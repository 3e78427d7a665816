using System.Reflection;
using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace Churn.Core.Scoring;

/// <summary>
/// The blend's two ML.NET models read out into flat arrays and evaluated directly, for the serving hot path.
/// A prediction engine call costs a few microseconds of bookkeeping around a few hundred comparisons; reasons by
/// occlusion need twenty of them per customer, so that bookkeeping dominated <c>/predict</c>.
/// </summary>
/// <remarks>
/// Only the shapes this product trains are compiled: LightGBM (a calibrated tree ensemble with numerical splits) and
/// the logistic pipeline (mean imputation, affine normalisation, linear model). The imputation and normalisation
/// are read by pushing probe rows through ML.NET's own transforms rather than from their internals. Rows holding a
/// missing value go to the engines instead: ML.NET routes NaN inside a tree by a per-node default it does not expose.
/// <see cref="TryCompile"/> checks itself against the engines and returns null when any probe disagrees, so a model of
/// another shape is still served, only through the slower path.
/// </remarks>
internal sealed class CompiledModel
{
    /// <summary>Largest probability difference from the engines accepted by the self-check.</summary>
    public const double Tolerance = 1e-5;

    private readonly Ensemble? _trees;
    private readonly LinearPart? _linear;
    private readonly double _treeWeight;
    private readonly (int Offset, int Width)[] _blocks;

    /// <summary>For each feature's block of slots, the trees that split on any of them.</summary>
    private readonly int[][] _treesByBlock;

    private CompiledModel(Ensemble? trees, LinearPart? linear, double treeWeight, (int Offset, int Width)[] blocks)
    {
        _trees = trees;
        _linear = linear;
        _treeWeight = treeWeight;
        _blocks = blocks;
        _treesByBlock = [.. blocks.Select(b => trees?.TreesSplittingOn(b.Offset, b.Width) ?? [])];
    }

    /// <summary>Number of trees, for sizing the scratch buffer of <see cref="Occlude"/>.</summary>
    public int TreeCount => _trees?.Count ?? 0;

    /// <summary>
    /// Raw blend scores with each feature's block in turn set to <paramref name="typical"/> (occlusion), written to
    /// <paramref name="without"/> by feature. Only the trees that split on a block are evaluated again for it and the
    /// linear score moves by that block's terms alone, so this costs a few tree walks per feature, not a full
    /// prediction. Both spans must hold no missing value. <paramref name="scratch"/> needs <see cref="TreeCount"/> items.
    /// </summary>
    public void Occlude(ReadOnlySpan<float> slots, ReadOnlySpan<float> typical, Span<double> without, Span<double> scratch, float[] work)
    {
        var treeSum = _trees?.Sum(slots, scratch) ?? 0;
        var linearScore = _linear?.Score(slots) ?? 0;
        slots.CopyTo(work);
        for (var b = 0; b < _blocks.Length; b++)
        {
            var (offset, width) = _blocks[b];
            typical.Slice(offset, width).CopyTo(work.AsSpan(offset, width));
            var trees = treeSum;
            foreach (var t in _treesByBlock[b])
            {
                trees += _trees!.Output(t, work) - scratch[t];
            }
            var linear = linearScore + (_linear?.Delta(slots, typical, offset, width) ?? 0);
            slots.Slice(offset, width).CopyTo(work.AsSpan(offset, width));
            without[b] = ChurnModel.RawScore(_trees?.Calibrate(trees) ?? 0, _linear?.Calibrate(linear) ?? 0, _treeWeight);
        }
    }

    /// <summary>The uncalibrated blend score, the same quantity as <see cref="ChurnModel.RawScore"/> over the engines.</summary>
    public double RawScore(ReadOnlySpan<float> slots) =>
        ChurnModel.RawScore(_trees?.Probability(slots) ?? 0, _linear?.Probability(slots) ?? 0, _treeWeight);

    /// <summary>
    /// True when every slot holds a finite value. Rows with NaN (missing) or an infinity (a number beyond float range,
    /// such as -1e308) are scored by the engines, whose handling of them is the reference.
    /// </summary>
    public static bool CanScore(ReadOnlySpan<float> slots)
    {
        foreach (var v in slots)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Encoded rows for the self-check: each feature drawn independently from the card's reference profile (the
    /// sampled values of a number, the categories seen and one never seen), so every split and slot is exercised.
    /// </summary>
    public static List<float[]> CheckRows(ChurnModel model, int count, int seed)
    {
        var random = new Random(seed);
        var features = model.Card.Schema.Features;
        var profiles = features.Select(f => model.Card.Reference.FirstOrDefault(p => p.Name == f.Name)).ToArray();
        var rows = new List<float[]>(count);
        var values = new FeatureValue[features.Count];
        for (var r = 0; r < count; r++)
        {
            for (var f = 0; f < features.Count; f++)
            {
                var profile = profiles[f];
                values[f] = features[f].Kind switch
                {
                    Schema.FeatureKind.Numeric when profile is { Sample.Count: > 0 } => FeatureValue.Of(profile.Sample[random.Next(profile.Sample.Count)]),
                    Schema.FeatureKind.Numeric => FeatureValue.Of(profile?.Median ?? 0),
                    _ when profile is { Frequencies.Count: > 0 } && random.Next(10) > 0 => FeatureValue.Of(profile.Frequencies.Keys.ElementAt(random.Next(profile.Frequencies.Count))),
                    Schema.FeatureKind.Categorical => FeatureValue.Of($"unseen-{r}"),
                    _ => FeatureValue.Of(profile?.Mode),
                };
            }
            var slots = new float[model.Encoder.Width];
            if (!model.Encoder.Encode(values, slots).HasError)
            {
                rows.Add(slots);
            }
        }
        return rows;
    }

    /// <summary>Compiles <paramref name="model"/> and checks it against the engines on <paramref name="checkRows"/>; null when it cannot.</summary>
    public static CompiledModel? TryCompile(ChurnModel model, IReadOnlyList<float[]> checkRows, out string? whyNot)
    {
        try
        {
            return Compile(model, checkRows, out whyNot);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or InvalidCastException or FormatException or AmbiguousMatchException)
        {
            // A model ML.NET reads differently from what this expects is served by the engines instead.
            whyNot = ex.Message;
            return null;
        }
    }

    private static CompiledModel? Compile(ChurnModel model, IReadOnlyList<float[]> checkRows, out string? whyNot)
    {
        var width = model.Encoder.Width;
        Ensemble? trees = null;
        LinearPart? linear = null;
        if (model.Trees is not null && (trees = Ensemble.TryRead(model.Trees, width)) is null)
        {
            whyNot = $"the tree model ({model.Trees.GetType().Name}) is not a calibrated ensemble of numerical splits";
            return null;
        }
        if (model.Linear is not null && (linear = LinearPart.TryRead(model.Linear, width)) is null)
        {
            whyNot = $"the linear model ({model.Linear.GetType().Name}) is not an affine pipeline ending in a calibrated linear model";
            return null;
        }
        var compiled = new CompiledModel(trees, linear, model.TreeWeight, [.. model.Encoder.Features.Select(f => (f.Offset, f.Width))]);
        var rows = checkRows.Where(r => r.Length == width && CanScore(r)).ToList();
        if (rows.Count == 0)
        {
            whyNot = "no check row without missing values";
            return null;
        }
        var matrix = new float[rows.Count * width];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].CopyTo(matrix, i * width);
        }
        var expected = model.RawScores(matrix, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var p = Sigmoid(compiled.RawScore(rows[i]));
            if (Math.Abs(p - Sigmoid(expected[i])) > Tolerance)
            {
                whyNot = $"check row {i}: {p:R} compiled against {Sigmoid(expected[i]):R} from the engines";
                return null;
            }
        }
        whyNot = null;
        return compiled;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static (object Sub, PlattCalibrator Calibrator)? Calibrated(object? predictor)
    {
        // The calibrated wrapper's generic arguments change between a freshly trained and a loaded model, so its
        // two public parts are read by name rather than by casting to one closed generic type.
        if (predictor is null)
        {
            return null;
        }
        var sub = Property(predictor, "SubModel");
        var calibrator = Property(predictor, "Calibrator") as PlattCalibrator;
        return sub is null || calibrator is null ? null : (sub, calibrator);
    }

    // The generic wrapper and its non-generic base both declare these names: take the most derived public one.
    private static object? Property(object instance, string name)
    {
        for (var type = instance.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly) is { } property)
            {
                return property.GetValue(instance);
            }
        }
        return null;
    }

    private static double Platt(PlattCalibrator c, double score) => 1 / (1 + Math.Exp(c.Slope * score + c.Offset));

    /// <summary>A tree ensemble as flat arrays: node i of tree t is at <c>_start[t] + i</c>; a negative child is <c>~leaf</c>.</summary>
    private sealed class Ensemble
    {
        private readonly int[] _start;
        private readonly int[] _leafStart;
        private readonly int[] _feature;
        private readonly float[] _threshold;
        private readonly int[] _left;
        private readonly int[] _right;
        private readonly double[] _leaf;
        private readonly double[] _weight;
        private readonly double _bias;
        private readonly PlattCalibrator _calibrator;

        private Ensemble(List<RegressionTree> trees, IReadOnlyList<double> weights, double bias, PlattCalibrator calibrator)
        {
            _start = new int[trees.Count];
            _leafStart = new int[trees.Count];
            var nodes = new List<(int Feature, float Threshold, int Left, int Right)>();
            var leaves = new List<double>();
            for (var t = 0; t < trees.Count; t++)
            {
                var tree = trees[t];
                _start[t] = nodes.Count;
                _leafStart[t] = leaves.Count;
                for (var n = 0; n < tree.NumericalSplitFeatureIndexes.Count; n++)
                {
                    nodes.Add((tree.NumericalSplitFeatureIndexes[n], tree.NumericalSplitThresholds[n], tree.LeftChild[n], tree.RightChild[n]));
                }
                leaves.AddRange(tree.LeafValues);
            }
            _feature = [.. nodes.Select(n => n.Feature)];
            _threshold = [.. nodes.Select(n => n.Threshold)];
            _left = [.. nodes.Select(n => n.Left)];
            _right = [.. nodes.Select(n => n.Right)];
            _leaf = [.. leaves];
            _weight = [.. weights];
            _bias = bias;
            _calibrator = calibrator;
        }

        public static Ensemble? TryRead(ITransformer transformer, int width)
        {
            if (transformer is not ISingleFeaturePredictionTransformer<object> single
                || Calibrated(single.Model) is not { } parts
                || parts.Sub is not TreeEnsembleModelParametersBasedOnRegressionTree model)
            {
                return null;
            }
            var ensemble = model.TrainedTreeEnsemble;
            var trees = ensemble.Trees.ToList();
            foreach (var tree in trees)
            {
                // A stump has no split nodes; categorical splits are not used by this product's encoding.
                if (tree.NumericalSplitFeatureIndexes.Count == 0 || tree.CategoricalSplitFlags.Any(c => c)
                    || tree.NumericalSplitFeatureIndexes.Any(f => f < 0 || f >= width))
                {
                    return null;
                }
            }
            return new Ensemble(trees, ensemble.TreeWeights, ensemble.Bias, parts.Calibrator);
        }

        public int Count => _start.Length;

        public double Probability(ReadOnlySpan<float> x) => Calibrate(Sum(x, []));

        public double Calibrate(double sum) => Platt(_calibrator, sum);

        /// <summary>The ensemble's raw sum; each tree's weighted output is kept in <paramref name="outputs"/> when it is not empty.</summary>
        public double Sum(ReadOnlySpan<float> x, Span<double> outputs)
        {
            var sum = _bias;
            for (var t = 0; t < _start.Length; t++)
            {
                var output = Output(t, x);
                if (!outputs.IsEmpty)
                {
                    outputs[t] = output;
                }
                sum += output;
            }
            return sum;
        }

        public double Output(int t, ReadOnlySpan<float> x)
        {
            var start = _start[t];
            var node = 0;
            while (node >= 0)
            {
                var i = start + node;
                node = x[_feature[i]] <= _threshold[i] ? _left[i] : _right[i];
            }
            return _weight[t] * _leaf[_leafStart[t] + ~node];
        }

        public int[] TreesSplittingOn(int offset, int width)
        {
            var trees = new List<int>();
            for (var t = 0; t < _start.Length; t++)
            {
                var end = t + 1 < _start.Length ? _start[t + 1] : _feature.Length;
                for (var i = _start[t]; i < end; i++)
                {
                    if (_feature[i] >= offset && _feature[i] < offset + width)
                    {
                        trees.Add(t);
                        break;
                    }
                }
            }
            return [.. trees];
        }
    }

    /// <summary>The logistic pipeline as one affine map per slot: <c>score = bias + Σ w·(a + s·x)</c>.</summary>
    private sealed class LinearPart
    {
        private readonly double[] _a;
        private readonly double[] _s;
        private readonly double _bias;
        private readonly PlattCalibrator _calibrator;

        private LinearPart(double[] a, double[] s, double bias, PlattCalibrator calibrator)
        {
            _a = a;
            _s = s;
            _bias = bias;
            _calibrator = calibrator;
        }

        public static LinearPart? TryRead(ITransformer transformer, int width)
        {
            if (transformer is not IEnumerable<ITransformer> chain)
            {
                return null;
            }
            var steps = chain.ToList();
            if (steps.Count == 0 || steps[^1] is not ISingleFeaturePredictionTransformer<object> predictor
                || Calibrated(predictor.Model) is not { } parts || parts.Sub is not LinearBinaryModelParameters linear
                || linear.Weights.Count != width)
            {
                return null;
            }
            // Push a row of zeros and a row of large values through the preprocessing: an affine map per slot is then
            // known by its value at 0 and its slope. The slope is read over a wide step because centring makes the
            // outputs at 0 and at 1 nearly equal for a feature like total charges, and their float difference would
            // lose most of its digits. Rows with missing values never reach this path.
            const float Step = 1e6f;
            var probe = new Learners(0, width).View([.. new float[width], .. Enumerable.Repeat(Step, width)], [false, false], [0, 1]);
            var prepared = probe;
            foreach (var step in steps.Take(steps.Count - 1))
            {
                prepared = step.Transform(prepared);
            }
            var rows = prepared.GetColumn<VBuffer<float>>(nameof(EncodedRow.Features)).Select(v => v.DenseValues().ToArray()).ToList();
            if (rows.Count != 2 || rows[0].Length != width || rows[1].Length != width)
            {
                return null;
            }
            var a = new double[width];
            var s = new double[width];
            for (var i = 0; i < width; i++)
            {
                // Folding the weight in keeps the hot loop to one multiply-add per slot.
                a[i] = linear.Weights[i] * (double)rows[0][i];
                s[i] = linear.Weights[i] * (((double)rows[1][i] - rows[0][i]) / Step);
            }
            return new LinearPart(a, s, linear.Bias, parts.Calibrator);
        }

        public double Probability(ReadOnlySpan<float> x) => Calibrate(Score(x));

        public double Calibrate(double score) => Platt(_calibrator, score);

        public double Score(ReadOnlySpan<float> x)
        {
            var score = _bias;
            for (var i = 0; i < _a.Length; i++)
            {
                score += _a[i] + _s[i] * x[i];
            }
            return score;
        }

        /// <summary>How the score moves when the slots of one block change from <paramref name="x"/> to <paramref name="y"/>.</summary>
        public double Delta(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int offset, int width)
        {
            var delta = 0.0;
            for (var i = offset; i < offset + width; i++)
            {
                delta += _s[i] * ((double)y[i] - x[i]);
            }
            return delta;
        }
    }
}
