namespace Churn.Core.Training;

/// <summary>Seeded, stratified splits: every part keeps the churn rate of the whole.</summary>
public static class DataSplits
{
    /// <summary>Assigns each row a fold in [0, k), stratified by label and shuffled with the seed.</summary>
    public static int[] StratifiedFolds(ReadOnlySpan<bool> labels, int k, int seed)
    {
        RequireFolds(k);
        var folds = new int[labels.Length];
        var random = new Random(seed);
        foreach (var cls in new[] { true, false })
        {
            var shuffled = ShuffledRowsOf(labels, cls, random);
            // Dealing shuffled rows round-robin gives every fold the same class count to within one.
            for (var j = 0; j < shuffled.Length; j++)
            {
                folds[shuffled[j]] = j % k;
            }
        }
        return folds;
    }

    /// <summary>
    /// Assigns each row a fold in [0, k), stratified by an integer stratum (for example treatment × outcome) and
    /// shuffled with the seed: every fold gets each stratum's count to within one.
    /// </summary>
    public static int[] StratifiedFolds(ReadOnlySpan<int> strata, int k, int seed)
    {
        RequireFolds(k);
        var folds = new int[strata.Length];
        var random = new Random(seed);
        var byStratum = new SortedDictionary<int, List<int>>();
        for (var i = 0; i < strata.Length; i++)
        {
            if (!byStratum.TryGetValue(strata[i], out var rows))
            {
                byStratum[strata[i]] = rows = [];
            }
            rows.Add(i);
        }
        foreach (var rows in byStratum.Values)
        {
            var shuffled = rows.ToArray();
            random.Shuffle(shuffled);
            for (var j = 0; j < shuffled.Length; j++)
            {
                folds[shuffled[j]] = j % k;
            }
        }
        return folds;
    }

    /// <summary>A stratified train/test split; <paramref name="testFraction"/> of each class goes to test.</summary>
    public static (int[] Train, int[] Test) StratifiedSplit(ReadOnlySpan<bool> labels, double testFraction, int seed)
    {
        if (testFraction is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be between 0 and 1.");
        }
        var random = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var cls in new[] { true, false })
        {
            var shuffled = ShuffledRowsOf(labels, cls, random);
            var testCount = (int)Math.Round(shuffled.Length * testFraction);
            test.AddRange(shuffled[..testCount]);
            train.AddRange(shuffled[testCount..]);
        }
        train.Sort();
        test.Sort();
        return ([.. train], [.. test]);
    }

    /// <summary>
    /// The folds a cross-validation runs over and how many there are: <paramref name="folds"/> as given (each row's fold,
    /// from a fold file), or folds stratified on <paramref name="labels"/> with the seed when null.
    /// </summary>
    /// <exception cref="ArgumentException">The given folds do not have one entry per row.</exception>
    public static (int[] Folds, int Count) CrossValidationFolds(ReadOnlySpan<bool> labels, int k, int seed, int[]? folds)
    {
        folds ??= StratifiedFolds(labels, k, seed);
        if (folds.Length != labels.Length)
        {
            throw new ArgumentException($"The fold file has {folds.Length} rows but the data has {labels.Length}.", nameof(folds));
        }
        return (folds, folds.Max() + 1);
    }

    /// <summary>Rows whose fold is (or is not) <paramref name="fold"/>.</summary>
    public static int[] Rows(int[] folds, int fold, bool inFold)
    {
        var rows = new List<int>();
        for (var i = 0; i < folds.Length; i++)
        {
            if ((folds[i] == fold) == inFold)
            {
                rows.Add(i);
            }
        }
        return [.. rows];
    }

    private static int[] ShuffledRowsOf(ReadOnlySpan<bool> labels, bool cls, Random random)
    {
        var rows = new List<int>();
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] == cls)
            {
                rows.Add(i);
            }
        }
        var shuffled = rows.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    private static void RequireFolds(int k)
    {
        if (k < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "At least 2 folds are needed.");
        }
    }
}
