using System.Numerics;

namespace Churn.Core.Scoring;

/// <summary>
/// Finds the leaf each tree of a <see cref="TreeEnsemble"/> sends a row to without walking the trees: QuickScorer
/// (Lucchese et al., "QuickScorer: a fast algorithm to rank documents with additive ensembles of regression trees",
/// SIGIR 2015). Each tree's leaves are numbered left to right and kept as a bit set; every split whose test a row
/// fails (it goes right) removes the leaves of its left subtree, and the row's leaf is the lowest one left. The splits
/// are grouped by slot and sorted by threshold, so a row visits, per slot, only the splits it fails, in one pass that
/// branches once per slot instead of once per tree level. The leaf found is the walk's leaf exactly, missing values
/// (NaN) included, so sums are bit for bit those of <see cref="TreeEnsemble.LeafOf"/>.
/// </summary>
internal sealed class ExitLeaves
{
    // Per slot, its splits by ascending threshold: the tree and the bits left when the test fails.
    private readonly int[] _slotStart;
    private readonly float[] _threshold;
    private readonly int[] _tree;
    private readonly ulong[] _keep;

    // Per slot, the splits a missing value fails (those that send it right), in any order.
    private readonly int[] _missingStart;
    private readonly int[] _missingTree;
    private readonly ulong[] _missingKeep;

    private readonly ulong[] _all;
    private readonly double[] _leafInOrder;
    private readonly int[] _leafStart;

    private ExitLeaves(TreeEnsemble trees, int slots)
    {
        var count = trees.Count;
        _all = new ulong[count];
        _leafStart = trees.LeafStart;
        _leafInOrder = new double[trees.Leaf.Length];
        var splits = new List<(int Slot, float Threshold, int Tree, ulong Keep, bool MissingRight)>(trees.Feature.Length);
        for (var t = 0; t < count; t++)
        {
            var start = trees.Start[t];
            var nodes = trees.NodeCount(t);
            var leaves = nodes + 1;
            var position = new int[leaves];
            var (leftFrom, leftTo) = (new int[nodes], new int[nodes]);
            var next = 0;
            // Numbers the leaves left to right; returns the range of positions under a node.
            (int From, int To) Number(int node)
            {
                if (node < 0)
                {
                    position[~node] = next;
                    return (next, ++next);
                }
                var left = Number(trees.Left[start + node]);
                var right = Number(trees.Right[start + node]);
                (leftFrom[node], leftTo[node]) = left;
                return (left.From, right.To);
            }
            Number(0);
            _all[t] = Bits(0, leaves);
            for (var leaf = 0; leaf < leaves; leaf++)
            {
                _leafInOrder[_leafStart[t] + position[leaf]] = trees.Leaf[_leafStart[t] + leaf];
            }
            for (var n = 0; n < nodes; n++)
            {
                splits.Add((trees.Feature[start + n], trees.Threshold[start + n], t, ~Bits(leftFrom[n], leftTo[n]), !trees.MissingLeft[start + n]));
            }
        }
        var sorted = splits.OrderBy(s => s.Slot).ThenBy(s => s.Threshold).ToList();
        (_slotStart, _threshold, _tree, _keep) = (new int[slots + 1], new float[sorted.Count], new int[sorted.Count], new ulong[sorted.Count]);
        for (var i = 0; i < sorted.Count; i++)
        {
            (_threshold[i], _tree[i], _keep[i]) = (sorted[i].Threshold, sorted[i].Tree, sorted[i].Keep);
            _slotStart[sorted[i].Slot + 1]++;
        }
        var missing = sorted.Where(s => s.MissingRight).ToList();
        (_missingStart, _missingTree, _missingKeep) = (new int[slots + 1], new int[missing.Count], new ulong[missing.Count]);
        for (var i = 0; i < missing.Count; i++)
        {
            (_missingTree[i], _missingKeep[i]) = (missing[i].Tree, missing[i].Keep);
            _missingStart[missing[i].Slot + 1]++;
        }
        for (var s = 0; s < slots; s++)
        {
            _slotStart[s + 1] += _slotStart[s];
            _missingStart[s + 1] += _missingStart[s];
        }
    }

    /// <summary>The tables for <paramref name="trees"/>, or null when a tree has more leaves than a bit set holds (64).</summary>
    public static ExitLeaves? TryBuild(TreeEnsemble trees)
    {
        if (trees.Count == 0 || Enumerable.Range(0, trees.Count).Any(t => trees.NodeCount(t) + 1 > 64))
        {
            return null;
        }
        return new ExitLeaves(trees, trees.Feature.Max() + 1);
    }

    /// <summary>The slots a row must have at least: one past the highest slot a split reads.</summary>
    public int Slots => _slotStart.Length - 1;

    /// <summary><c>bias + Σ weight[t] · leaf[t]</c> over the trees in order, as <see cref="TreeEnsemble.Sum"/> adds it.</summary>
    public double Sum(ReadOnlySpan<float> x, ReadOnlySpan<double> weights, double bias)
    {
        Span<ulong> left = _all.Length <= 512 ? stackalloc ulong[_all.Length] : new ulong[_all.Length];
        _all.CopyTo(left);
        for (var s = 0; s < Slots; s++)
        {
            var value = x[s];
            if (float.IsNaN(value))
            {
                for (int k = _missingStart[s], end = _missingStart[s + 1]; k < end; k++)
                {
                    left[_missingTree[k]] &= _missingKeep[k];
                }
                continue;
            }
            // A split sends the value right when value > threshold: with thresholds ascending, those come first.
            for (int k = _slotStart[s], end = _slotStart[s + 1]; k < end && value > _threshold[k]; k++)
            {
                left[_tree[k]] &= _keep[k];
            }
        }
        var sum = bias;
        for (var t = 0; t < left.Length; t++)
        {
            sum += weights[t] * _leafInOrder[_leafStart[t] + BitOperations.TrailingZeroCount(left[t])];
        }
        return sum;
    }

    private static ulong Bits(int from, int to) => (to - from == 64 ? ulong.MaxValue : (1UL << (to - from)) - 1) << from;
}
