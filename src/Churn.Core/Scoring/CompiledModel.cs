using System.Reflection;
using Churn.Core.Evaluation;
using Churn.Core.Features;
using Churn.Core.Models;
using Churn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace Churn.Core.Scoring;

/// <summary>
/// The blend's two ML.NET models read out into flat arrays and evaluated directly, for the serving hot path, with
/// exact SHAP values for every prediction. A prediction engine call costs a few microseconds of bookkeeping around a
/// few hundred comparisons; evaluating the arrays directly costs the comparisons alone.
/// </summary>
/// <remarks>
/// Only the shapes this product trains are compiled: a calibrated tree ensemble with numerical splits (LightGBM, or
/// FastTree behind a mean imputation) and the logistic pipeline (mean imputation, affine normalisation, linear
/// model). The blend is in log-odds: <c>raw = w·logit(p_trees) + (1 − w)·logit(p_linear)</c>, which is what makes the
/// explanation additive (ADR 0004). The imputation and normalisation are read by pushing probe rows through ML.NET's
/// own transforms; LightGBM's routing of missing values is read from its trees. <see cref="TryCompile"/> checks
/// itself against the engines, rows with missing values included, and returns null when any probe disagrees, so a
/// model of another shape is still served, only through the slower path and without contributions.
/// </remarks>
internal sealed class CompiledModel
{
    /// <summary>Largest probability difference from the engines accepted by the self-check.</summary>
    public const double Tolerance = 1e-5;

    private readonly TreeEnsemble? _trees;
    private readonly TreeShap? _shap;
    private readonly LinearTerms? _linear;
    private readonly double _treeWeight;
    private readonly int[] _columnOfSlot;
    private readonly double _scale;
    private readonly double _shift;

    private CompiledModel(TreeEnsemble? trees, TreeShap? shap, LinearTerms? linear, double treeWeight, int[] columnOfSlot, CalibrationModel calibration)
    {
        _trees = trees;
        _shap = shap;
        _linear = linear;
        _treeWeight = treeWeight;
        _columnOfSlot = columnOfSlot;
        Columns = columnOfSlot.Length == 0 ? 0 : columnOfSlot[^1] + 1;
        // Platt's p = 1 / (1 + exp(A·raw + B)) is a sigmoid of -(A·raw + B): the calibrated log-odds are affine in the
        // raw score, so contributions scale by -A. Other calibrations are reported in the raw (model) log-odds.
        (_scale, _shift, Unit) = calibration.Method == CalibrationModel.PlattMethod
            ? (-calibration.A, -calibration.B, ContributionUnits.LogOdds)
            : (1.0, 0.0, ContributionUnits.ModelLogOdds);
        if (CanExplain)
        {
            var expected = (_shap is null ? 0 : _treeWeight * _trees!.LogOdds(_shap.Expected)) + (_linear is null ? 0 : (1 - _treeWeight) * _linear.LogOdds(_linear.Expected));
            BaseValue = _scale * expected + _shift;
        }
    }

    /// <summary>The tree part (null without trees), for tests that recompute the explanation from its definition.</summary>
    internal TreeEnsemble? Trees => _trees;

    /// <summary>The trees' SHAP tables and covers (null without trees or covers).</summary>
    internal TreeShap? Shap => _shap;

    internal double TreeWeight => _treeWeight;

    /// <summary>The final calibration as an affine map of the raw score: <c>log-odds = Scale·raw + Shift</c> in <see cref="Unit"/>.</summary>
    internal (double Scale, double Shift) Output => (_scale, _shift);

    /// <summary>The linear model's log-odds of a row (missing slots at the imputed mean), or 0 without one.</summary>
    internal double LinearLogOdds(ReadOnlySpan<float> slots) => _linear is null ? 0 : _linear.LogOdds(_linear.Score(slots));

    /// <summary>Number of schema columns (players of the explanation).</summary>
    public int Columns { get; }

    /// <summary>True when the trees' covers are known, so <see cref="Explain"/> can run.</summary>
    public bool CanExplain => _trees is null || _shap is not null;

    /// <summary>The unit of contributions and the base value (see <see cref="ContributionUnits"/>).</summary>
    public string Unit { get; }

    /// <summary>The expected log-odds over the training rows: every explanation starts here.</summary>
    public double BaseValue { get; }

    /// <summary>The uncalibrated blend score, the same quantity as <see cref="ChurnModel.RawScore"/> over the engines.</summary>
    public double RawScore(ReadOnlySpan<float> slots)
    {
        var raw = 0.0;
        if (_trees is not null)
        {
            raw += _treeWeight * _trees.LogOdds(_trees.Sum(slots));
        }
        if (_linear is not null)
        {
            raw += (1 - _treeWeight) * _linear.LogOdds(_linear.Score(slots));
        }
        return raw;
    }

    /// <summary>
    /// Exact SHAP values of one row, one per schema column, written to <paramref name="phi"/> in <see cref="Unit"/>:
    /// <c><see cref="BaseValue"/> + Σ phi</c> is the row's log-odds. The tree part is path-dependent TreeSHAP
    /// (<see cref="TreeShap"/>); the linear part is <c>w_j·(x_j − E[x_j])</c> per slot, summed over each column's slots,
    /// which is exact for a linear model. Both are scaled by their blend weight, their own calibrators' slope and the
    /// final Platt slope, all linear in log-odds. Requires <see cref="CanExplain"/> and a row <see cref="Accepts"/> takes.
    /// Returns the row's <see cref="RawScore"/>, bit for bit, taken from the same walk of the trees.
    /// </summary>
    public double Explain(ReadOnlySpan<float> slots, Span<double> phi, Span<double> linearScratch)
    {
        phi.Clear();
        var raw = 0.0;
        if (_shap is not null)
        {
            raw += _treeWeight * _trees!.LogOdds(_shap.Add(slots, phi));
            // The ensemble's log-odds are -(Slope·sum + Offset): a sum contribution moves them by -Slope times it.
            var scale = _scale * _treeWeight * -_trees!.Slope;
            for (var c = 0; c < phi.Length; c++)
            {
                phi[c] *= scale;
            }
        }
        if (_linear is not null)
        {
            raw += (1 - _treeWeight) * _linear.LogOdds(_linear.Score(slots));
            var scale = _scale * (1 - _treeWeight) * -_linear.Slope;
            linearScratch.Clear();
            _linear.Add(slots, _columnOfSlot, linearScratch);
            for (var c = 0; c < phi.Length; c++)
            {
                phi[c] += scale * linearScratch[c];
            }
        }
        return raw;
    }

    /// <summary>
    /// True when this model evaluates the row here: every value finite, or missing (NaN) where the models' handling of
    /// missing values was read. Others, such as a number beyond float range (-1e308), are scored by the engines.
    /// </summary>
    public bool Accepts(ReadOnlySpan<float> slots)
    {
        var missingOk = _trees?.HandlesMissing ?? true;
        foreach (var v in slots)
        {
            if (float.IsInfinity(v) || (float.IsNaN(v) && !missingOk))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Counts the rows of <paramref name="matrix"/> listed in <paramref name="rows"/> (the training rows) reaching each
    /// node of a tree model, for the package; null when the model is not a shape that compiles.
    /// </summary>
    public static TreeCovers? CountCovers(ITransformer trees, FeatureEncoder encoder, float[] matrix, IReadOnlyList<int> rows)
    {
        try
        {
            return TreeEnsemble.TryRead(trees, encoder.Width, ColumnOfSlot(encoder))?.CountRows(matrix, encoder.Width, rows);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or InvalidCastException or FormatException or AmbiguousMatchException)
        {
            return null;
        }
    }

    private static int[] ColumnOfSlot(FeatureEncoder encoder)
    {
        var map = new int[encoder.Width];
        for (var f = 0; f < encoder.Features.Count; f++)
        {
            var feature = encoder.Features[f];
            map.AsSpan(feature.Offset, feature.Width).Fill(f);
        }
        return map;
    }

    /// <summary>
    /// Encoded rows for the self-check: each feature of <paramref name="schema"/> drawn independently from the reference
    /// profile of the training rows (the sampled values of a number, the categories seen and one never seen, and now and
    /// then a missing value), so every split, slot and missing-value route is exercised.
    /// </summary>
    public static List<float[]> CheckRows(ChurnModel model, DatasetSchema schema, IReadOnlyList<FeatureProfile> reference, int count, int seed)
    {
        var random = new Random(seed);
        var features = schema.Features;
        var profiles = features.Select(f => reference.FirstOrDefault(p => p.Name == f.Name)).ToArray();
        var rows = new List<float[]>(count);
        var values = new FeatureValue[features.Count];
        for (var r = 0; r < count; r++)
        {
            for (var f = 0; f < features.Count; f++)
            {
                var profile = profiles[f];
                values[f] = random.Next(12) == 0 ? FeatureValue.Missing : features[f].Kind switch
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
        var columns = ColumnOfSlot(model.Encoder);
        TreeEnsemble? trees = null;
        LinearTerms? linear = null;
        if (model.Trees is not null && (trees = TreeEnsemble.TryRead(model.Trees, width, columns)) is null)
        {
            whyNot = $"the tree model ({model.Trees.GetType().Name}) is not a calibrated ensemble of numerical splits";
            return null;
        }
        if (model.Linear is not null && (linear = LinearTerms.TryRead(model.Linear, width)) is null)
        {
            whyNot = $"the linear model ({model.Linear.GetType().Name}) is not an affine pipeline ending in a calibrated linear model";
            return null;
        }
        var shap = trees is not null && model.Covers is { } covers && trees.Fits(covers) ? new TreeShap(trees, covers, model.Encoder.Features.Count) : null;
        var compiled = new CompiledModel(trees, shap, linear, model.TreeWeight, columns, model.Calibration);
        var rows = checkRows.Where(r => r.Length == width && compiled.Accepts(r)).ToList();
        if (rows.Count == 0)
        {
            whyNot = "no check row the compiled model accepts";
            return null;
        }
        var matrix = new float[rows.Count * width];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].CopyTo(matrix, i * width);
        }
        var expected = model.EngineRawScores(matrix, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var p = CalibrationModel.Sigmoid(compiled.RawScore(rows[i]));
            if (Math.Abs(p - CalibrationModel.Sigmoid(expected[i])) > Tolerance)
            {
                whyNot = $"check row {i}: {p:R} compiled against {CalibrationModel.Sigmoid(expected[i]):R} from the engines";
                return null;
            }
        }
        whyNot = null;
        return compiled;
    }

    /// <summary>
    /// Pushes one row per value of <paramref name="fills"/> (every slot set to it) through <paramref name="steps"/> and
    /// returns the resulting feature vectors, or null when they do not keep the width.
    /// </summary>
    public static float[][]? Probe(IReadOnlyList<ITransformer> steps, int width, float[] fills)
    {
        var matrix = new float[fills.Length * width];
        for (var r = 0; r < fills.Length; r++)
        {
            matrix.AsSpan(r * width, width).Fill(fills[r]);
        }
        var prepared = new Learners(0, width).View(matrix, new bool[fills.Length], [.. Enumerable.Range(0, fills.Length)]);
        foreach (var step in steps)
        {
            prepared = step.Transform(prepared);
        }
        var rows = prepared.GetColumn<VBuffer<float>>(nameof(EncodedRow.Features)).Select(v => v.DenseValues().ToArray()).ToArray();
        return rows.Length == fills.Length && rows.All(r => r.Length == width) ? rows : null;
    }

    /// <summary>The sub-model and Platt calibrator of an ML.NET calibrated predictor, or null for another kind.</summary>
    public static (object Sub, PlattCalibrator Calibrator)? Calibrated(object? predictor)
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

    /// <summary>
    /// The logistic pipeline as one affine map per slot: <c>score = bias + Σ term_i</c> with <c>term_i = a_i + s_i·x_i</c>,
    /// or <c>m_i</c> when x_i is missing (the term of the imputed training mean, which is also the term's expectation
    /// over the training rows).
    /// </summary>
    private sealed class LinearTerms
    {
        private readonly double[] _a;
        private readonly double[] _s;
        private readonly double[] _m;
        private readonly double _bias;
        private readonly PlattCalibrator _calibrator;

        private LinearTerms(double[] a, double[] s, double[] m, double bias, PlattCalibrator calibrator)
        {
            _a = a;
            _s = s;
            _m = m;
            _bias = bias;
            _calibrator = calibrator;
            Expected = bias + m.Sum();
        }

        /// <summary>The expected score over the training rows.</summary>
        public double Expected { get; }

        public double Slope => _calibrator.Slope;

        public double LogOdds(double score) => -(_calibrator.Slope * score + _calibrator.Offset);

        public static LinearTerms? TryRead(ITransformer transformer, int width)
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
            // Push rows of zeros, of large values and of missing values through the preprocessing: an affine map per slot
            // is then known by its value at 0 and its slope, and the missing row gives the imputed term. The slope is
            // read over a wide step because centring makes the outputs at 0 and at 1 nearly equal for a feature like
            // total charges, and their float difference would lose most of its digits.
            const float Step = 1e6f;
            var rows = Probe(steps.Take(steps.Count - 1).ToList(), width, [0f, Step, float.NaN]);
            if (rows is null || rows[2].Any(float.IsNaN))
            {
                return null;
            }
            var a = new double[width];
            var s = new double[width];
            var m = new double[width];
            for (var i = 0; i < width; i++)
            {
                // Folding the weight in keeps the hot loop to one multiply-add per slot.
                a[i] = linear.Weights[i] * (double)rows[0][i];
                s[i] = linear.Weights[i] * (((double)rows[1][i] - rows[0][i]) / Step);
                m[i] = linear.Weights[i] * (double)rows[2][i];
            }
            return new LinearTerms(a, s, m, linear.Bias, parts.Calibrator);
        }

        public double Score(ReadOnlySpan<float> x)
        {
            var score = _bias;
            for (var i = 0; i < _a.Length; i++)
            {
                score += float.IsNaN(x[i]) ? _m[i] : _a[i] + _s[i] * x[i];
            }
            return score;
        }

        /// <summary>Adds each slot's <c>term_i − m_i</c> to its column in <paramref name="phi"/>.</summary>
        public void Add(ReadOnlySpan<float> x, int[] columnOfSlot, Span<double> phi)
        {
            for (var i = 0; i < _a.Length; i++)
            {
                if (!float.IsNaN(x[i]))
                {
                    phi[columnOfSlot[i]] += _a[i] + _s[i] * x[i] - _m[i];
                }
            }
        }
    }
}
