using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers.FastTree;

namespace Churn.Core.Scoring;

/// <summary>
/// How many training rows reached each node of each tree: the "cover" path-dependent TreeSHAP weighs the branches
/// by. ML.NET drops LightGBM's own counts when it reads the booster, so the trainer counts them by passing the
/// training rows through the final trees, and the package stores them beside the models.
/// </summary>
/// <param name="Nodes">Per tree, the count at each split node (ML.NET's node order).</param>
/// <param name="Leaves">Per tree, the count at each leaf (ML.NET's leaf order).</param>
public sealed record TreeCovers(IReadOnlyList<int[]> Nodes, IReadOnlyList<int[]> Leaves);

/// <summary>
/// A calibrated ML.NET tree ensemble (LightGBM, or FastTree behind a mean imputation) as flat arrays: node i of tree
/// t is at <c>Start[t] + i</c>; a negative child is <c>~leaf</c>. A missing value (NaN) goes the way ML.NET sends it:
/// LightGBM's per-node default direction, read from the trees; for FastTree, the way the imputed mean goes.
/// </summary>
internal sealed class TreeEnsemble
{
    private readonly PlattCalibrator _calibrator;

    // Null when a tree is too large for its bit sets: the trees are then walked.
    private readonly ExitLeaves? _exitLeaves;

    private TreeEnsemble(List<RegressionTree> trees, IReadOnlyList<double> weights, double bias, PlattCalibrator calibrator, float[]? imputed, int[] columnOfSlot)
    {
        var count = trees.Count;
        Start = new int[count];
        LeafStart = new int[count];
        var nodes = new List<(int Feature, float Threshold, int Left, int Right, bool MissingLeft)>();
        var leaves = new List<double>();
        for (var t = 0; t < count; t++)
        {
            var tree = trees[t];
            Start[t] = nodes.Count;
            LeafStart[t] = leaves.Count;
            var defaults = imputed is null ? MissingDefaults(tree) : null;
            for (var n = 0; n < tree.NumericalSplitFeatureIndexes.Count; n++)
            {
                var feature = tree.NumericalSplitFeatureIndexes[n];
                var threshold = tree.NumericalSplitThresholds[n];
                // ML.NET replaces NaN by the node's default value when the tree has any, and otherwise compares NaN,
                // which is never <= a threshold; FastTree never sees NaN because the imputation replaced it first.
                var missingLeft = imputed is not null ? imputed[feature] <= threshold : defaults is not null && defaults[n] <= threshold;
                nodes.Add((feature, threshold, tree.LeftChild[n], tree.RightChild[n], missingLeft));
            }
            leaves.AddRange(tree.LeafValues);
        }
        Feature = [.. nodes.Select(n => n.Feature)];
        Column = [.. nodes.Select(n => columnOfSlot[n.Feature])];
        Threshold = [.. nodes.Select(n => n.Threshold)];
        Left = [.. nodes.Select(n => n.Left)];
        Right = [.. nodes.Select(n => n.Right)];
        MissingLeft = [.. nodes.Select(n => n.MissingLeft)];
        Leaf = [.. leaves];
        Weight = [.. weights];
        Bias = bias;
        _calibrator = calibrator;
        HandlesMissing = imputed is not null || trees.All(ReadsDefaults);
        _exitLeaves = ExitLeaves.TryBuild(this);
    }

    public int[] Start { get; }
    public int[] LeafStart { get; }
    public int[] Feature { get; }

    /// <summary>The schema column (feature) of each node's split slot: one-hot slots of a category share it.</summary>
    public int[] Column { get; }
    public float[] Threshold { get; }
    public int[] Left { get; }
    public int[] Right { get; }
    public bool[] MissingLeft { get; }
    public double[] Leaf { get; }
    public double[] Weight { get; }
    public double Bias { get; }

    /// <summary>Whether NaN routing was read from every tree, so rows with missing values may be evaluated here.</summary>
    public bool HandlesMissing { get; }

    public int Count => Start.Length;

    /// <summary>Nodes of tree <paramref name="t"/> (leaves are one more).</summary>
    public int NodeCount(int t) => (t + 1 < Start.Length ? Start[t + 1] : Feature.Length) - Start[t];

    /// <summary>The calibrator's slope: the tree probability is <c>1 / (1 + exp(Slope·sum + Offset))</c>.</summary>
    public double Slope => _calibrator.Slope;
    public double Offset => _calibrator.Offset;

    /// <summary>The log-odds of the ensemble's probability for a raw sum: <c>-(Slope·sum + Offset)</c>, exactly.</summary>
    public double LogOdds(double sum) => -(_calibrator.Slope * sum + _calibrator.Offset);

    /// <summary>
    /// Reads an ensemble from a trained transformer: a calibrated tree model, alone or after transforms that leave
    /// every finite value unchanged and replace NaN by a constant (the mean imputation FastTree is trained behind).
    /// Null when it is any other shape.
    /// </summary>
    public static TreeEnsemble? TryRead(ITransformer transformer, int width, int[] columnOfSlot)
    {
        float[]? imputed = null;
        var predictor = transformer;
        if (transformer is IEnumerable<ITransformer> chain)
        {
            var steps = chain.ToList();
            if (steps.Count == 0)
            {
                return null;
            }
            predictor = steps[^1];
            if (steps.Count > 1 && (imputed = Imputation(steps.Take(steps.Count - 1).ToList(), width)) is null)
            {
                return null;
            }
        }
        if (predictor is not ISingleFeaturePredictionTransformer<object> single
            || CompiledModel.Calibrated(single.Model) is not { } parts
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
        return new TreeEnsemble(trees, ensemble.TreeWeights, ensemble.Bias, parts.Calibrator, imputed, columnOfSlot);
    }

    public double Probability(ReadOnlySpan<float> x) => 1 / (1 + Math.Exp(-LogOdds(Sum(x))));

    /// <summary>The ensemble's raw sum (bias plus each tree's weighted leaf), with the leaves found by <see cref="ExitLeaves"/>.</summary>
    public double Sum(ReadOnlySpan<float> x)
    {
        return _exitLeaves is { } exits && x.Length >= exits.Slots ? exits.Sum(x, Weight, Bias) : WalkSum(x);
    }

    /// <summary>The same sum, each tree walked from its root (<see cref="LeafOf"/>).</summary>
    public double WalkSum(ReadOnlySpan<float> x)
    {
        var sum = Bias;
        for (var t = 0; t < Start.Length; t++)
        {
            sum += Weight[t] * Leaf[LeafStart[t] + ~LeafOf(t, x)];
        }
        return sum;
    }

    /// <summary>The leaf (as <c>~leaf</c>) row <paramref name="x"/> reaches in tree <paramref name="t"/>.</summary>
    public int LeafOf(int t, ReadOnlySpan<float> x)
    {
        var start = Start[t];
        var node = 0;
        while (node >= 0)
        {
            var i = start + node;
            node = GoesLeft(i, x[Feature[i]]) ? Left[i] : Right[i];
        }
        return node;
    }

    /// <summary>Whether a value goes to the left child of global node <paramref name="i"/>.</summary>
    public bool GoesLeft(int i, float value) => float.IsNaN(value) ? MissingLeft[i] : value <= Threshold[i];

    /// <summary>Counts the rows of a row-major matrix reaching each node and leaf.</summary>
    public TreeCovers CountRows(float[] matrix, int width, IReadOnlyList<int> rows)
    {
        var nodes = new int[Count][];
        var leaves = new int[Count][];
        for (var t = 0; t < Count; t++)
        {
            nodes[t] = new int[NodeCount(t)];
            leaves[t] = new int[NodeCount(t) + 1];
        }
        // Trees are counted on every core, each tree by one thread over all rows: integer counts, so the same on any core count.
        var rowList = rows as int[] ?? [.. rows];
        Parallel.For(0, Count, t =>
        {
            var start = Start[t];
            var treeNodes = nodes[t];
            var treeLeaves = leaves[t];
            foreach (var r in rowList)
            {
                var x = matrix.AsSpan(r * width, width);
                var node = 0;
                while (node >= 0)
                {
                    treeNodes[node]++;
                    var i = start + node;
                    node = GoesLeft(i, x[Feature[i]]) ? Left[i] : Right[i];
                }
                treeLeaves[~node]++;
            }
        });
        return new TreeCovers(nodes, leaves);
    }

    /// <summary>Whether <paramref name="covers"/> has the shape of this ensemble.</summary>
    public bool Fits(TreeCovers covers) =>
        covers.Nodes.Count == Count && covers.Leaves.Count == Count
        && Enumerable.Range(0, Count).All(t => covers.Nodes[t].Length == NodeCount(t) && covers.Leaves[t].Length == NodeCount(t) + 1);

    // ML.NET keeps LightGBM's NaN routing in an internal per-node array (the value NaN is replaced by before the
    // comparison); the public tree API does not expose it. It is read by reflection and the compiled model's
    // self-check with missing values proves the reading right, or the model is not compiled.
    private static float[]? MissingDefaults(RegressionTree tree) => InternalTree(tree) is { } inner
        && inner.GetType().GetField("DefaultValueForMissing", BindingFlags.Public | BindingFlags.Instance)?.GetValue(inner) is float[] values
        ? values
        : null;

    private static bool ReadsDefaults(RegressionTree tree) =>
        InternalTree(tree) is { } inner && inner.GetType().GetField("DefaultValueForMissing", BindingFlags.Public | BindingFlags.Instance) is not null;

    private static object? InternalTree(RegressionTree tree)
    {
        for (var type = tree.GetType(); type is not null; type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.Name == "InternalRegressionTree")
                {
                    return field.GetValue(tree);
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The value each slot's NaN is replaced by, when the transforms before the trees change nothing else: probed with a
    /// row of zeros, a row of large values and a row of NaN. Null when they are not such an imputation.
    /// </summary>
    private static float[]? Imputation(List<ITransformer> steps, int width)
    {
        const float Large = 1e6f;
        var rows = CompiledModel.Probe(steps, width, [0f, Large, float.NaN]);
        if (rows is null)
        {
            return null;
        }
        for (var i = 0; i < width; i++)
        {
            if (rows[0][i] != 0f || rows[1][i] != Large || float.IsNaN(rows[2][i]))
            {
                return null;
            }
        }
        return rows[2];
    }
}
