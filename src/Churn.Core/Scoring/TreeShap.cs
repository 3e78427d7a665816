using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Churn.Core.Scoring;

/// <summary>
/// Exact path-dependent SHAP values of a tree ensemble, with the schema's columns as the players (the one-hot slots
/// of a category are one player). The value of a coalition S is the path-dependent conditional expectation of
/// Lundberg, Erion and Lee ("Consistent individualized feature attribution for tree ensembles", 2018): walking a
/// tree, a split on a column in S follows the row, and any other split takes both branches weighted by the share of
/// training rows (the cover) each received.
/// </summary>
/// <remarks>
/// Two exact computations of the same quantity. <see cref="Algorithm2"/> is the paper's Algorithm 2 (as in the
/// authors' C++ implementation, with the unwinding of a column met twice on a path). The serving path uses the
/// leaf-wise form of the same sum, as in Yang's Fast TreeSHAP v2 (2021): a leaf's contribution to player i depends on
/// the row only through which path columns the row follows at every split (its "hot" set H), so the Shapley sums are
/// tabulated per leaf and per H when the model is loaded, and a row costs one walk of each tree plus a table look-up
/// per leaf. Trees with a path of more than <see cref="MaxTableColumns"/> distinct columns, or models with more than
/// 64 columns, use Algorithm 2. Both are tested against Shapley values computed by enumerating every coalition.
/// </remarks>
internal sealed class TreeShap
{
    /// <summary>Longest set of distinct columns on one root-to-leaf path for which a leaf's table is built (2^k·(k+1) values).</summary>
    public const int MaxTableColumns = 8;

    private readonly TreeEnsemble _trees;
    private readonly double[] _nodeCover;
    private readonly double[] _leafCover;
    private readonly int _columns;
    private readonly int _maxDepth;

    // Per tree: whether its leaves are tabulated. Per leaf (global index): its path columns in increasing order, as a
    // list (from _columnStart, _columnCount long) and as a bit mask, and where its table starts.
    private readonly bool[] _tabulated;
    private readonly int[] _leafColumns;
    private readonly int[] _columnStart;
    private readonly int[] _columnCount;
    private readonly ulong[] _columnMask;
    private readonly int[] _tableStart;
    private readonly double[] _tables;
    private readonly int _maxLeaves;
    private readonly int _pathSize;

    public TreeShap(TreeEnsemble trees, TreeCovers covers, int columns)
    {
        _trees = trees;
        _columns = columns;
        _nodeCover = [.. covers.Nodes.SelectMany(n => n).Select(c => (double)c)];
        _leafCover = [.. covers.Leaves.SelectMany(n => n).Select(c => (double)c)];
        var expected = trees.Bias;
        _tabulated = new bool[trees.Count];
        _columnStart = new int[trees.Leaf.Length];
        _columnCount = new int[trees.Leaf.Length];
        _columnMask = new ulong[trees.Leaf.Length];
        _tableStart = new int[trees.Leaf.Length];
        var leafColumns = new List<int>();
        var tables = new List<double>();
        for (var t = 0; t < trees.Count; t++)
        {
            _maxDepth = Math.Max(_maxDepth, Depth(t, 0));
            _maxLeaves = Math.Max(_maxLeaves, trees.NodeCount(t) + 1);
            var paths = new List<(int Leaf, int[] Columns, double[] Zero)>();
            expected += trees.Weight[t] * Expectation(t, 0, 1.0, [], [], paths);
            _tabulated[t] = columns <= 64 && paths.All(p => p.Columns.Length <= MaxTableColumns);
            foreach (var (leaf, cols, zero) in paths)
            {
                var global = trees.LeafStart[t] + leaf;
                // In increasing column order, bit q of a hot set is the q-th set bit of the leaf's mask, so the hot set
                // is one bit extraction from the row's cold mask.
                Array.Sort(cols, zero);
                _columnStart[global] = leafColumns.Count;
                _columnCount[global] = cols.Length;
                leafColumns.AddRange(cols);
                if (_tabulated[t])
                {
                    foreach (var c in cols)
                    {
                        _columnMask[global] |= 1UL << c;
                    }
                    _tableStart[global] = tables.Count;
                    Tabulate(cols.Length, zero, trees.Weight[t] * trees.Leaf[global], tables);
                }
            }
        }
        _leafColumns = [.. leafColumns];
        _tables = [.. tables];
        _pathSize = (_maxDepth + 2) * (_maxDepth + 3) / 2 + 1;
        Expected = expected;
    }

    /// <summary>The expected raw sum of the ensemble over the training rows (bias included): the SHAP base value.</summary>
    public double Expected { get; }

    /// <summary>
    /// Adds each column's SHAP value (in the ensemble's raw-sum units) to <paramref name="phi"/>, which has one item per
    /// column. Their total is <c>Sum(x) - Expected</c>. Returns the ensemble's raw sum of the row, <see cref="TreeEnsemble.Sum"/>
    /// bit for bit, read off the same walk.
    /// </summary>
    public double Add(ReadOnlySpan<float> x, Span<double> phi)
    {
        Span<int> nodes = _maxLeaves <= 256 ? stackalloc int[_maxLeaves + 1] : new int[_maxLeaves + 1];
        Span<ulong> masks = _maxLeaves <= 256 ? stackalloc ulong[_maxLeaves + 1] : new ulong[_maxLeaves + 1];
        PathElement[]? path = null;
        var sum = _trees.Bias;
        for (var t = 0; t < _trees.Count; t++)
        {
            if (_tabulated[t])
            {
                sum += _trees.Weight[t] * AddTabulated(t, x, phi, nodes, masks);
            }
            else
            {
                Recurse(t, x, phi, 0, 0, 0, 1, 1, -1, path ??= new PathElement[_pathSize]);
                sum += _trees.Weight[t] * _trees.Leaf[_trees.LeafStart[t] + ~_trees.LeafOf(t, x)];
            }
        }
        return sum;
    }

    /// <summary>The paper's Algorithm 2 for tree <paramref name="t"/>, adding to <paramref name="phi"/> (public for tests).</summary>
    public void Algorithm2(int t, ReadOnlySpan<float> x, Span<double> phi) => Recurse(t, x, phi, 0, 0, 0, 1, 1, -1, new PathElement[_pathSize]);

    /// <summary>The share of node <paramref name="node"/>'s rows that went to <paramref name="child"/> (both tree-local; a child below 0 is a leaf).</summary>
    public double Fraction(int t, int node, int child)
    {
        var parent = _nodeCover[_trees.Start[t] + node];
        // A node no training row reached splits its (zero) weight evenly, so every expectation stays defined.
        return parent > 0 ? Cover(t, child) / parent : 0.5;
    }

    private double Cover(int t, int child) => child >= 0 ? _nodeCover[_trees.Start[t] + child] : _leafCover[_trees.LeafStart[t] + ~child];

    private int Depth(int t, int node) =>
        node < 0 ? 0 : 1 + Math.Max(Depth(t, _trees.Left[_trees.Start[t] + node]), Depth(t, _trees.Right[_trees.Start[t] + node]));

    /// <summary>The tree's expected leaf value under the covers, collecting each leaf's path columns and their zero fractions.</summary>
    private double Expectation(int t, int node, double reach, List<int> columns, List<double> zero, List<(int, int[], double[])> paths)
    {
        if (node < 0)
        {
            paths.Add((~node, [.. columns], [.. zero]));
            return reach * _trees.Leaf[_trees.LeafStart[t] + ~node];
        }
        var i = _trees.Start[t] + node;
        var column = _trees.Column[i];
        var sum = 0.0;
        foreach (var child in new[] { _trees.Left[i], _trees.Right[i] })
        {
            var fraction = Fraction(t, node, child);
            var at = columns.IndexOf(column);
            var before = at < 0 ? 1.0 : zero[at];
            if (at < 0)
            {
                columns.Add(column);
                zero.Add(fraction);
            }
            else
            {
                zero[at] *= fraction;
            }
            sum += Expectation(t, child, reach * fraction, columns, zero, paths);
            if (at < 0)
            {
                columns.RemoveAt(columns.Count - 1);
                zero.RemoveAt(zero.Count - 1);
            }
            else
            {
                zero[at] = before;
            }
        }
        return sum;
    }

    /// <summary>
    /// For a leaf with k path columns of zero fractions z and value v, and every hot set H (a k-bit mask): first
    /// C(H) = v·Σ_{S⊆H} w(|S|)·Π_{j∉S} z_j, which a cold column i (not in H) receives as −C(H); then for each i in H,
    /// D_i(H) = v·(1 − z_i)·Σ_{S⊆H∖i} w(|S|)·Π_{j∉S∪i} z_j. Here w(s) = s!(k−s−1)!/k!, the Shapley weight. The table
    /// holds, for each H in turn, what each of the k columns receives (D_i(H) when hot, −C(H) when cold), so a row adds
    /// k consecutive values without a branch.
    /// </summary>
    private static void Tabulate(int k, double[] zero, double value, List<double> tables)
    {
        var full = (1 << k) - 1;
        var product = new double[1 << k];
        for (var mask = 0; mask <= full; mask++)
        {
            var p = 1.0;
            for (var j = 0; j < k; j++)
            {
                if ((mask & (1 << j)) != 0)
                {
                    p *= zero[j];
                }
            }
            product[mask] = p;
        }
        var weight = new double[Math.Max(1, k)];
        for (var s = 0; s < k; s++)
        {
            weight[s] = Math.Exp(LogFactorial(s) + LogFactorial(k - s - 1) - LogFactorial(k));
        }
        var c = new double[1 << k];
        for (var h = 0; h <= full; h++)
        {
            // With every column hot there is no cold one to pay; that entry is never read.
            for (var s = h; h != full; s = (s - 1) & h)
            {
                c[h] += weight[System.Numerics.BitOperations.PopCount((uint)s)] * product[full ^ s];
                if (s == 0)
                {
                    break;
                }
            }
        }
        for (var h = 0; h <= full; h++)
        {
            for (var q = 0; q < k; q++)
            {
                if ((h & (1 << q)) == 0)
                {
                    tables.Add(-(value * c[h]));
                    continue;
                }
                var d = 0.0;
                var rest = h ^ (1 << q);
                for (var s = rest; ; s = (s - 1) & rest)
                {
                    d += weight[System.Numerics.BitOperations.PopCount((uint)s)] * product[full ^ s ^ (1 << q)];
                    if (s == 0)
                    {
                        break;
                    }
                }
                tables.Add(d * (value * (1 - zero[q])));
            }
        }
    }

    private static double LogFactorial(int n)
    {
        var sum = 0.0;
        for (var i = 2; i <= n; i++)
        {
            sum += Math.Log(i);
        }
        return sum;
    }

    /// <summary>Adds tree <paramref name="t"/>'s share to <paramref name="phi"/>; returns the value of the leaf the row reaches.</summary>
    /// <remarks>
    /// This loop is the whole cost of an explanation, so it reads the tree arrays through references, without bounds
    /// checks: every index it uses was checked when the ensemble was read (children and features within the arrays) or
    /// built here (a leaf's columns and table row within <see cref="_leafColumns"/> and <see cref="_tables"/>), and
    /// <paramref name="phi"/> and <paramref name="x"/> are checked against the model's widths once per call below.
    /// </remarks>
    private double AddTabulated(int t, ReadOnlySpan<float> x, Span<double> phi, Span<int> nodes, Span<ulong> masks)
    {
        if (phi.Length < _columns || nodes.Length < _maxLeaves + 1 || masks.Length < _maxLeaves + 1)
        {
            throw new ArgumentException("The buffers are narrower than the model.");
        }
        var trees = _trees;
        ref var feature = ref MemoryMarshal.GetArrayDataReference(trees.Feature);
        ref var column = ref MemoryMarshal.GetArrayDataReference(trees.Column);
        ref var threshold = ref MemoryMarshal.GetArrayDataReference(trees.Threshold);
        ref var missingLeft = ref MemoryMarshal.GetArrayDataReference(trees.MissingLeft);
        ref var lefts = ref MemoryMarshal.GetArrayDataReference(trees.Left);
        ref var rights = ref MemoryMarshal.GetArrayDataReference(trees.Right);
        ref var leafColumns = ref MemoryMarshal.GetArrayDataReference(_leafColumns);
        ref var columnStart = ref MemoryMarshal.GetArrayDataReference(_columnStart);
        ref var columnCount = ref MemoryMarshal.GetArrayDataReference(_columnCount);
        ref var columnMask = ref MemoryMarshal.GetArrayDataReference(_columnMask);
        ref var tables = ref MemoryMarshal.GetArrayDataReference(_tables);
        ref var tableStart = ref MemoryMarshal.GetArrayDataReference(_tableStart);
        ref var values = ref MemoryMarshal.GetReference(x);
        ref var contributions = ref MemoryMarshal.GetReference(phi);
        ref var stackNodes = ref MemoryMarshal.GetReference(nodes);
        ref var stackMasks = ref MemoryMarshal.GetReference(masks);
        var start = trees.Start[t];
        var leafStart = trees.LeafStart[t];
        var reached = 0.0;
        // Walk every branch once, carrying the columns at which the row has left this branch's way (its cold set): go
        // down the row's own way first and keep the other branch for later, so each split costs one push.
        var top = -1;
        var node = 0;
        var cold = 0UL;
        while (true)
        {
            while (node >= 0)
            {
                var i = start + node;
                var value = Unsafe.Add(ref values, Unsafe.Add(ref feature, i));
                var goesLeft = float.IsNaN(value) ? Unsafe.Add(ref missingLeft, i) : value <= Unsafe.Add(ref threshold, i);
                var left = Unsafe.Add(ref lefts, i);
                var right = Unsafe.Add(ref rights, i);
                top++;
                Unsafe.Add(ref stackNodes, top) = goesLeft ? right : left;
                Unsafe.Add(ref stackMasks, top) = cold | (1UL << Unsafe.Add(ref column, i));
                node = goesLeft ? left : right;
            }
            var leaf = leafStart + ~node;
            if (cold == 0)
            {
                // The one leaf the row follows all the way: the probability's walk.
                reached = trees.Leaf[leaf];
            }
            var k = Unsafe.Add(ref columnCount, leaf);
            var first = Unsafe.Add(ref columnStart, leaf);
            ref var cols = ref Unsafe.Add(ref leafColumns, first);
            var hot = HotSet(~cold, Unsafe.Add(ref columnMask, leaf), ref cols, k);
            ref var row = ref Unsafe.Add(ref tables, Unsafe.Add(ref tableStart, leaf) + hot * k);
            for (var q = 0; q < k; q++)
            {
                Unsafe.Add(ref contributions, Unsafe.Add(ref cols, q)) += Unsafe.Add(ref row, q);
            }
            if (top < 0)
            {
                return reached;
            }
            node = Unsafe.Add(ref stackNodes, top);
            cold = Unsafe.Add(ref stackMasks, top);
            top--;
        }
    }

    /// <summary>
    /// The leaf's hot set as a k-bit mask: bit q is set when the row follows the q-th of the leaf's columns (in increasing
    /// order) at every split, that is when the column is in <paramref name="followed"/>.
    /// </summary>
    private static int HotSet(ulong followed, ulong mask, ref int columns, int count)
    {
        if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
        {
            return (int)System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(followed, mask);
        }
        var hot = 0;
        for (var q = 0; q < count; q++)
        {
            if ((followed & (1UL << Unsafe.Add(ref columns, q))) != 0)
            {
                hot |= 1 << q;
            }
        }
        return hot;
    }

    private struct PathElement
    {
        public int Column;
        public double Zero;
        public double One;
        public double Weight;
    }

    private void Recurse(int t, ReadOnlySpan<float> x, Span<double> phi, int node, int depth, int parentOffset, double zero, double one, int column, PathElement[] path)
    {
        var offset = parentOffset + depth + 1;
        Array.Copy(path, parentOffset, path, offset, depth + 1);
        Extend(path, offset, depth, zero, one, column);
        if (node < 0)
        {
            var value = _trees.Weight[t] * _trees.Leaf[_trees.LeafStart[t] + ~node];
            for (var i = 1; i <= depth; i++)
            {
                var e = path[offset + i];
                phi[e.Column] += UnwoundSum(path, offset, depth, i) * (e.One - e.Zero) * value;
            }
            return;
        }
        var g = _trees.Start[t] + node;
        var split = _trees.Column[g];
        var goesLeft = _trees.GoesLeft(g, x[_trees.Feature[g]]);
        var hotChild = goesLeft ? _trees.Left[g] : _trees.Right[g];
        var coldChild = goesLeft ? _trees.Right[g] : _trees.Left[g];
        var incomingZero = 1.0;
        var incomingOne = 1.0;
        var k = 0;
        while (k <= depth && path[offset + k].Column != split)
        {
            k++;
        }
        if (k <= depth)
        {
            // The column was met higher up: undo that split so both are counted as one player's decision.
            incomingZero = path[offset + k].Zero;
            incomingOne = path[offset + k].One;
            Unwind(path, offset, depth, k);
            depth--;
        }
        var hotZero = Fraction(t, node, hotChild) * incomingZero;
        var coldZero = Fraction(t, node, coldChild) * incomingZero;
        // A branch that neither the row nor the training rows reach contributes nothing (and would divide by zero).
        if (hotZero != 0 || incomingOne != 0)
        {
            Recurse(t, x, phi, hotChild, depth + 1, offset, hotZero, incomingOne, split, path);
        }
        if (coldZero != 0)
        {
            Recurse(t, x, phi, coldChild, depth + 1, offset, coldZero, 0, split, path);
        }
    }

    private static void Extend(PathElement[] path, int offset, int depth, double zero, double one, int column)
    {
        path[offset + depth] = new PathElement { Column = column, Zero = zero, One = one, Weight = depth == 0 ? 1 : 0 };
        for (var i = depth - 1; i >= 0; i--)
        {
            path[offset + i + 1].Weight += one * path[offset + i].Weight * (i + 1) / (depth + 1);
            path[offset + i].Weight = zero * path[offset + i].Weight * (depth - i) / (depth + 1);
        }
    }

    private static void Unwind(PathElement[] path, int offset, int depth, int index)
    {
        var one = path[offset + index].One;
        var zero = path[offset + index].Zero;
        var next = path[offset + depth].Weight;
        for (var i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                var tmp = path[offset + i].Weight;
                path[offset + i].Weight = next * (depth + 1) / ((i + 1) * one);
                next = tmp - path[offset + i].Weight * zero * (depth - i) / (depth + 1);
            }
            else
            {
                path[offset + i].Weight = path[offset + i].Weight * (depth + 1) / (zero * (depth - i));
            }
        }
        for (var i = index; i < depth; i++)
        {
            path[offset + i].Column = path[offset + i + 1].Column;
            path[offset + i].Zero = path[offset + i + 1].Zero;
            path[offset + i].One = path[offset + i + 1].One;
        }
    }

    private static double UnwoundSum(PathElement[] path, int offset, int depth, int index)
    {
        var one = path[offset + index].One;
        var zero = path[offset + index].Zero;
        var next = path[offset + depth].Weight;
        var total = 0.0;
        for (var i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                var tmp = next / ((i + 1) * one);
                total += tmp;
                next = path[offset + i].Weight - tmp * zero * (depth - i);
            }
            else
            {
                total += path[offset + i].Weight / (zero * (depth - i));
            }
        }
        return total * (depth + 1);
    }
}
