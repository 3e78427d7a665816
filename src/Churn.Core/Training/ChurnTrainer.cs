using System.Diagnostics;
using System.Reflection;
using Churn.Core.Evaluation;
using Churn.Core.Features;
using Churn.Core.Models;
using Microsoft.ML;

namespace Churn.Core.Training;

/// <summary>How to train: learner, seed, split, calibration and threshold policy.</summary>
public sealed record TrainingOptions
{
    public TrainerKind Trainer { get; init; } = TrainerKind.LightGbm;
    public int Seed { get; init; } = 42;
    public string ModelName { get; init; } = DefaultModelName;

    /// <summary>The registered name of the churn classifier unless another is given: "churn".</summary>
    public const string DefaultModelName = "churn";

    /// <summary>Share of rows held out (stratified) for the reported metrics.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>
    /// Inner folds used for early stopping, the blend weight and the calibration data; null (the default) chooses
    /// <see cref="SmallDataInnerFolds"/>, or <see cref="LargeDataInnerFolds"/> above <see cref="LargeDataRows"/> training rows.
    /// </summary>
    public int? InnerFolds { get; init; }

    /// <summary>Inner folds up to <see cref="LargeDataRows"/> training rows: 4.</summary>
    public const int SmallDataInnerFolds = 4;

    /// <summary>
    /// Inner folds above <see cref="LargeDataRows"/> training rows: 2. Each out-of-fold half still holds over 15,000
    /// rows for early stopping, the blend weight and the calibration, and the tree folds take half the time of four.
    /// </summary>
    public const int LargeDataInnerFolds = 2;

    /// <summary>The inner folds a training of <paramref name="trainingRows"/> rows uses (see <see cref="InnerFolds"/>).</summary>
    public int InnerFoldsFor(int trainingRows) => InnerFolds ?? (trainingRows > LargeDataRows ? LargeDataInnerFolds : SmallDataInnerFolds);

    /// <summary>"platt" (default: keeps the ranking exactly) or "isotonic".</summary>
    public string Calibration { get; init; } = CalibrationModel.PlattMethod;

    /// <summary>When set, the threshold maximises expected profit; otherwise it maximises F1.</summary>
    public BusinessValue? BusinessValue { get; init; }

    public TreeSettings Trees { get; init; } = new();

    /// <summary>Blend weights of the tree model tried against the out-of-fold predictions.</summary>
    public IReadOnlyList<double> BlendWeights { get; init; } = [1.0, 0.75, 0.5];

    /// <summary>Name of the data source for the card (a file name, never its content).</summary>
    public string? DataSource { get; init; }

    /// <summary>Whether to search the tree settings (only up to <see cref="LargeDataRows"/> training rows).</summary>
    public bool Search { get; init; } = true;

    /// <summary>
    /// Above this many training rows (30,000) the recipe bounds its time: no search of the tree settings and
    /// <see cref="LargeDataInnerFolds"/> inner folds.
    /// </summary>
    public int LargeDataRows { get; init; } = 30_000;

    /// <summary>Skip permutation importance (used inside cross-validation, where it is not reported).</summary>
    public bool ComputeImportance { get; init; } = true;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (TestFraction is <= 0 or >= 0.9)
        {
            problems.Add("the test fraction must be between 0 and 0.9");
        }
        if (InnerFolds is { } folds && folds is < 2 or > 20)
        {
            problems.Add("inner folds must be between 2 and 20");
        }
        if (Calibration is not (CalibrationModel.PlattMethod or CalibrationModel.IsotonicMethod or CalibrationModel.NoneMethod))
        {
            problems.Add($"calibration must be platt, isotonic or none, not '{Calibration}'");
        }
        return problems;
    }
}

/// <summary>Progress of a training, for progress bars and job status.</summary>
public sealed record TrainingProgress(string Stage, double Fraction);

/// <summary>A fitted model with its held-out predictions.</summary>
public sealed record TrainingResult(ChurnModel Model, double[] TestProbabilities, bool[] TestLabels);

/// <summary>
/// The training recipe. Within the training rows, stratified inner folds give out-of-fold
/// predictions: they pick the tree count (early stopping), the tree/linear blend weight, the
/// calibration and the threshold. The final models are then refitted on all training rows, and
/// the held-out test split is scored once for the card's metrics.
/// </summary>
public static class ChurnTrainer
{
    /// <summary>Trains with a stratified train/test split.</summary>
    public static TrainingResult Train(Dataset data, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        var labels = data.RequireLabels();
        RequireTrainable(labels, options);
        var (train, test) = DataSplits.StratifiedSplit(labels, options.TestFraction, options.Seed);
        return TrainOnSplit(data, train, test, options, progress, ct);
    }

    /// <summary>Cross-validates the whole recipe; <paramref name="folds"/> gives each row's fold (or null for seeded stratified folds).</summary>
    public static CrossValidationSummary CrossValidate(Dataset data, TrainingOptions options, int k, int[]? folds = null, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        var labels = data.RequireLabels();
        RequireTrainable(labels, options);
        (folds, k) = DataSplits.CrossValidationFolds(labels, k, options.Seed, folds);
        var auc = new List<double>();
        var aucPr = new List<double>();
        var logLoss = new List<double>();
        var brier = new List<double>();
        var inner = options with { ComputeImportance = false };
        for (var f = 0; f < k; f++)
        {
            ct.ThrowIfCancellationRequested();
            var foldProgress = new Progress<TrainingProgress>(p => progress?.Report(new($"fold {f + 1}/{k}: {p.Stage}", (f + p.Fraction) / k)));
            var result = TrainOnSplit(data, DataSplits.Rows(folds, f, false), DataSplits.Rows(folds, f, true), inner, foldProgress, ct);
            var m = result.Model.Card.Metrics;
            auc.Add(m.Auc ?? double.NaN);
            aucPr.Add(m.AucPr ?? double.NaN);
            logLoss.Add(m.LogLoss);
            brier.Add(m.Brier);
        }
        return new CrossValidationSummary(k, Spread(auc), Spread(aucPr), Spread(logLoss), Spread(brier));
    }

    internal static MetricSpread Spread(List<double> values)
    {
        var mean = values.Average();
        var sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new MetricSpread(mean, sd, values);
    }

    private static void RequireTrainable(bool[] labels, TrainingOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems) + ".");
        }
        var positives = labels.Count(l => l);
        if (positives < 10 || labels.Length - positives < 10)
        {
            throw new InvalidDataException($"Training needs at least 10 churned and 10 retained customers; the data has {positives} and {labels.Length - positives}.");
        }
    }

    private static TrainingResult TrainOnSplit(Dataset data, int[] trainRows, int[] testRows, TrainingOptions options, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var labels = data.RequireLabels();
        var trainData = data.Select(trainRows);
        var encoder = FeatureEncoder.Fit(trainData);
        var matrix = encoder.EncodeAll(data);
        var learners = new Learners(options.Seed, encoder.Width);
        var trainLabels = trainData.Labels!;

        // Inner folds over the training rows: out-of-fold predictions pick the tree count, the
        // blend weight, the calibration and the threshold without touching the test rows.
        progress?.Report(new("out-of-fold models", 0));
        var k = options.InnerFoldsFor(trainRows.Length);
        var innerFolds = DataSplits.StratifiedFolds(trainLabels, k, options.Seed + 1);
        var useTrees = options.Trainer != TrainerKind.Logistic;
        var useLinear = options.Trainer is TrainerKind.Logistic or TrainerKind.LightGbm && options.BlendWeights.Any(w => w < 1);
        var folds = Enumerable.Range(0, k).Select(f =>
        {
            var holdIdx = DataSplits.Rows(innerFolds, f, true);
            var fit = DataSplits.Rows(innerFolds, f, false).Select(i => trainRows[i]).ToArray();
            return (HoldIdx: holdIdx, FitRows: fit, HoldRows: holdIdx.Select(i => trainRows[i]).ToArray());
        }).ToArray();
        // Each side reads the folds through views of its own: the tree learner's here, the logistic one's below.
        var treeViews = useTrees ? folds.Select(f => (Fit: learners.View(matrix, labels, f.FitRows), Hold: learners.View(matrix, labels, f.HoldRows))).ToArray() : [];
        var candidates = useTrees ? SearchSpace(options, trainRows.Length) : [];
        var steps = k * Math.Max(1, candidates.Count) + 1.0;
        var done = 0;

        var stages = new Dictionary<string, double>();
        var stageClock = Stopwatch.StartNew();
        void Stage(string name)
        {
            stages[name] = Math.Round(stageClock.Elapsed.TotalSeconds, 2);
            stageClock.Restart();
        }
        Stage("encode");
        // The logistic folds run beside the tree folds, each on one thread (LightGBM leaves a core free, see
        // Learners.LightGbmThreads), through a context and views of their own so the two sides share no ML.NET state.
        var linearLearners = new Learners(options.Seed, encoder.Width);
        var oofLinear = new double[trainRows.Length];
        var linearFolds = !useLinear ? Task.CompletedTask : Task.Run(() =>
        {
            foreach (var fold in folds)
            {
                ct.ThrowIfCancellationRequested();
                var fitted = linearLearners.Logistic(linearLearners.View(matrix, labels, fold.FitRows));
                Scatter(Learners.Probabilities(fitted, linearLearners.View(matrix, labels, fold.HoldRows)), fold.HoldIdx, oofLinear);
            }
        }, ct);

        // The small search: each candidate tree setting gets out-of-fold predictions (early-stopped
        // per fold for LightGBM); the best out-of-fold AUC wins. A later candidate must win outright.
        var oofTree = new double[trainRows.Length];
        var treeCounts = new List<int>();
        var settings = options.Trees;
        var bestAuc = double.NegativeInfinity;
        var searched = new List<string>();
        foreach (var candidate in candidates)
        {
            var oof = new double[trainRows.Length];
            var counts = new List<int>();
            // A fold's held-out rows are scored while the next fold fits; each writes only its own rows of oof.
            var scoring = new List<Task>();
            foreach (var (fold, view) in folds.Zip(treeViews))
            {
                ct.ThrowIfCancellationRequested();
                ITransformer treeModel;
                if (options.Trainer == TrainerKind.LightGbm)
                {
                    (treeModel, var trees) = learners.LightGbmEarlyStopped(view.Fit, view.Hold, candidate);
                    counts.Add(trees);
                }
                else
                {
                    treeModel = learners.FastTree(view.Fit, candidate, FastTreeCount(candidate));
                }
                scoring.Add(Task.Run(() => Scatter(Learners.Probabilities(treeModel, view.Hold), fold.HoldIdx, oof), ct));
                progress?.Report(new("out-of-fold models", ++done / steps));
            }
            Task.WaitAll(scoring, ct);
            var auc = BinaryMetrics.Auc(oof, trainLabels);
            searched.Add(FormattableString.Invariant($"{candidate.Leaves} leaves/{candidate.MinRowsPerLeaf} per leaf: {auc:0.0000}"));
            if (auc > bestAuc + 1e-4)
            {
                bestAuc = auc;
                oofTree = oof;
                treeCounts = counts;
                settings = candidate;
            }
        }

        linearFolds.GetAwaiter().GetResult();
        Stage("folds");
        var weight = options.Trainer switch
        {
            TrainerKind.Logistic => 0.0,
            TrainerKind.FastTree => 1.0,
            _ => useLinear ? ChooseBlend(oofTree, oofLinear, trainLabels, options.BlendWeights) : 1.0,
        };
        var oofRaw = new double[trainRows.Length];
        for (var i = 0; i < oofRaw.Length; i++)
        {
            oofRaw[i] = ChurnModel.RawScore(oofTree[i], oofLinear[i], weight);
        }
        var calibration = options.Calibration switch
        {
            CalibrationModel.PlattMethod => CalibratorFitter.FitPlatt(oofRaw, trainLabels),
            CalibrationModel.IsotonicMethod => CalibratorFitter.FitIsotonic(oofRaw, trainLabels),
            _ => CalibrationModel.None,
        };
        var oofCalibrated = oofRaw.Select(calibration.Apply).ToArray();
        var (threshold, policy, profitCurve) = ChooseThreshold(oofCalibrated, trainLabels, options.BusinessValue);

        // Refit on every training row with the settings the inner folds chose.
        progress?.Report(new("final model", k / (k + 1.0)));
        ct.ThrowIfCancellationRequested();
        var treeCount = treeCounts.Count > 0 ? Math.Max(1, (int)Math.Round(treeCounts.Average())) : FastTreeCount(settings);
        // The logistic refit, when the blend keeps it, runs beside the trees' refit as the folds did.
        var linearRefit = weight < 1 ? Task.Run(() => linearLearners.Logistic(linearLearners.View(matrix, labels, trainRows)), ct) : null;
        ITransformer? treesModel = null;
        if (weight > 0)
        {
            var allView = learners.View(matrix, labels, trainRows);
            treesModel = options.Trainer == TrainerKind.FastTree
                ? learners.FastTree(allView, settings, treeCount)
                : learners.LightGbm(allView, settings, treeCount);
        }
        var linearModel = linearRefit?.GetAwaiter().GetResult();

        var parameters = new Dictionary<string, string>
        {
            ["trainer"] = options.Trainer.ToString(),
            ["treeWeight"] = weight.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture),
            ["calibration"] = calibration.Method,
            ["innerFolds"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (weight > 0)
        {
            parameters["trees"] = treeCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["learningRate"] = settings.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["leaves"] = settings.Leaves.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["minRowsPerLeaf"] = settings.MinRowsPerLeaf.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["l2"] = settings.L2.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (treeCounts.Count > 0)
            {
                parameters["earlyStoppedTrees"] = string.Join(",", treeCounts);
            }
            if (searched.Count > 1)
            {
                parameters["search"] = string.Join("; ", searched);
            }
        }

        Stage("refit");
        // Score the test rows once: metrics, importance and the score reference all come from them.
        var testMatrix = Gather(matrix, encoder.Width, testRows);
        var testLabels = testRows.Select(r => labels[r]).ToArray();
        // The trees' covers (training rows per node) weigh TreeSHAP's expectations; ML.NET does not keep LightGBM's.
        var covers = treesModel is null ? null : Scoring.CompiledModel.CountCovers(treesModel, encoder, matrix, trainRows);
        var draft = new ChurnModel(learners.Context, encoder, treesModel, linearModel, weight, options.Seed, calibration, covers);
        // The model is compiled now, self-checked on rows drawn from the profile its card will hold (as a served model
        // is), and scores the test rows it takes; the rest (every row, when it does not compile) go through the engines.
        var reference = ReferenceProfiler.Profile(trainData, options.Seed);
        var compiled = draft.Compile(data.Schema, reference);
        var testRaw = draft.RawScores(testMatrix, testRows.Length, compiled);
        var testProbabilities = testRaw.Select(calibration.Apply).ToArray();
        var uncalibrated = testRaw.Select(s => 1 / (1 + Math.Exp(-s))).ToArray();
        var report = Evaluator.Evaluate(testProbabilities, testLabels, threshold);

        IReadOnlyList<FeatureImportance> importance = [];
        if (options.ComputeImportance)
        {
            progress?.Report(new("feature importance", 0.95));
            importance = PermutationImportance(draft, compiled, testMatrix, testLabels, report.Auc ?? 0.5, options.Seed);
        }

        Stage("evaluate");
        parameters["stageSeconds"] = string.Join(", ", stages.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:0.##}")));
        var card = new ModelCard
        {
            ModelName = options.ModelName,
            CreatedAt = DateTimeOffset.UtcNow,
            Trainer = options.Trainer,
            Parameters = parameters,
            Seed = options.Seed,
            DataFingerprint = data.Fingerprint,
            DataSource = options.DataSource,
            Schema = data.Schema,
            TrainRows = trainRows.Length,
            TestRows = testRows.Length,
            TrainChurnRate = trainLabels.Count(l => l) / (double)trainLabels.Length,
            Metrics = report,
            Threshold = threshold,
            ThresholdPolicy = policy,
            BusinessValue = options.BusinessValue,
            ProfitCurve = profitCurve,
            Tiers = new RiskTiers(Math.Round(threshold / 2, 4), threshold),
            Calibration = calibration,
            UncalibratedBrier = BinaryMetrics.Brier(uncalibrated, testLabels),
            Importance = importance,
            Reference = reference,
            ScoreReference = ScoreReference(testProbabilities, options.Seed),
            Versions = Versions(),
            TrainingSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
        draft.WithCard(card);
        if (options.ComputeImportance && draft.CanExplain)
        {
            card = card with { ShapImportance = ShapImportance(draft, testMatrix, ShapRows(testRows.Length, options.Seed)), ContributionUnit = draft.ContributionUnit, BaseValue = draft.BaseValue };
        }
        progress?.Report(new("done", 1));
        return new TrainingResult(draft.WithCard(card), testProbabilities, testLabels);
    }

    /// <summary>
    /// Tree settings tried by the search. Up to <see cref="TrainingOptions.LargeDataRows"/> rows a less
    /// regularised setting is tried beside the tuned one (it wins on data with strong, clean signals);
    /// above it the tuned setting alone keeps training within its time budget.
    /// </summary>
    private static IReadOnlyList<TreeSettings> SearchSpace(TrainingOptions options, int rows) =>
        options.Search && rows <= options.LargeDataRows
            ? [options.Trees, options.Trees with { Leaves = 31, MinRowsPerLeaf = 20 }]
            : [options.Trees];

    private static int FastTreeCount(TreeSettings s) => Math.Min(s.MaxTrees, 400);

    private static double ChooseBlend(double[] tree, double[] linear, bool[] labels, IReadOnlyList<double> weights)
    {
        var best = 1.0;
        var bestAuc = double.NegativeInfinity;
        var blended = new double[tree.Length];
        // Weights are tried from the tree side down; a lower weight must win outright to be chosen.
        foreach (var w in weights.OrderByDescending(w => w))
        {
            for (var i = 0; i < blended.Length; i++)
            {
                blended[i] = ChurnModel.RawScore(tree[i], linear[i], w);
            }
            var auc = BinaryMetrics.Auc(blended, labels);
            if (auc > bestAuc + 1e-6)
            {
                bestAuc = auc;
                best = w;
            }
        }
        return best;
    }

    private static (double Threshold, string Policy, IReadOnlyList<ProfitPoint> Curve) ChooseThreshold(double[] probabilities, bool[] labels, BusinessValue? value)
    {
        if (value is not null)
        {
            var choice = ThresholdSelector.ByProfit(probabilities, labels, value);
            return (choice.Threshold, "profit", choice.Curve);
        }
        return (ThresholdSelector.ByMaxF1(probabilities, labels), "f1", []);
    }

    private static IReadOnlyList<FeatureImportance> PermutationImportance(ChurnModel model, Scoring.CompiledModel? compiled, float[] matrix, bool[] labels, double baseAuc, int seed)
    {
        var width = model.Encoder.Width;
        var rows = labels.Length;
        var features = model.Encoder.Features;
        // The shuffles are drawn in feature order from one seeded generator, then the features are scored on every core.
        var random = new Random(seed);
        var orders = features.Select(_ =>
        {
            var order = Enumerable.Range(0, rows).ToArray();
            random.Shuffle(order);
            return order;
        }).ToArray();
        var drops = new double[features.Count];
        Parallel.For(0, features.Count, f =>
        {
            var feature = features[f];
            var order = orders[f];
            var shuffled = (float[])matrix.Clone();
            // Shuffle the feature's whole slot block together so a one-hot group stays one category.
            for (var r = 0; r < rows; r++)
            {
                matrix.AsSpan(order[r] * width + feature.Offset, feature.Width).CopyTo(shuffled.AsSpan(r * width + feature.Offset, feature.Width));
            }
            drops[f] = Math.Round(baseAuc - BinaryMetrics.Auc(model.RawScores(shuffled, rows, compiled), labels), 6);
        });
        return [.. features.Select((feature, f) => new FeatureImportance(feature.Name, drops[f])).OrderByDescending(i => i.AucDrop)];
    }

    /// <summary>
    /// The test rows (positions in the test matrix, ascending) whose explanations make the card's mean absolute SHAP:
    /// all of them up to <see cref="ReferenceProfiler.SampleSize"/>, else a seeded sample of that many
    /// (<see cref="ReferenceProfiler.SortedSample"/>). A mean over 2,000 rows is within a few per cent of the full one, and
    /// explaining every row of a large test split took longer than the rest of its evaluation (1.3 s for 12,875 rows of
    /// 500 trees).
    /// </summary>
    internal static int[] ShapRows(int testRows, int seed) => ReferenceProfiler.SortedSample(Enumerable.Range(0, testRows).ToArray(), seed);

    /// <summary>
    /// Mean absolute SHAP value of each feature over the test matrix's rows listed in <paramref name="sample"/>, largest
    /// first (Lundberg et al. 2020's global importance).
    /// </summary>
    private static IReadOnlyList<FeatureShap> ShapImportance(ChurnModel model, float[] matrix, int[] sample)
    {
        var rows = sample.Length;
        var width = model.Encoder.Width;
        var count = model.Encoder.Features.Count;
        // Rows are explained on every core in a fixed number of contiguous parts, and the parts' sums are added in
        // order, so the result does not depend on the number of cores or on which part finishes first.
        const int parts = 16;
        var partSums = new double[parts][];
        var partExplained = new int[parts];
        Parallel.For(0, parts, part =>
        {
            var sums = new double[count];
            var phi = new double[count];
            var explained = 0;
            for (var r = (int)((long)rows * part / parts); r < (int)((long)rows * (part + 1) / parts); r++)
            {
                if (model.Explain(matrix.AsSpan(sample[r] * width, width), phi))
                {
                    explained++;
                    for (var f = 0; f < count; f++)
                    {
                        sums[f] += Math.Abs(phi[f]);
                    }
                }
            }
            partSums[part] = sums;
            partExplained[part] = explained;
        });
        var total = new double[count];
        foreach (var sums in partSums)
        {
            for (var f = 0; f < count; f++)
            {
                total[f] += sums[f];
            }
        }
        var explainedRows = partExplained.Sum();
        return [.. model.Encoder.Features.Select((f, i) => new FeatureShap(f.Name, Math.Round(total[i] / Math.Max(1, explainedRows), 6))).OrderByDescending(s => s.MeanAbsContribution)];
    }

    private static ScoreProfile ScoreReference(double[] probabilities, int seed)
    {
        var edges = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();
        var shares = new double[10];
        foreach (var p in probabilities)
        {
            shares[Math.Min(9, (int)(p * 10))] += 1.0 / probabilities.Length;
        }
        var sample = ReferenceProfiler.SortedSample(probabilities, seed);
        return new ScoreProfile(edges, shares, sample, probabilities.Average());
    }

    private static IReadOnlyDictionary<string, string> Versions() => new Dictionary<string, string>
    {
        ["churn"] = typeof(ChurnTrainer).Assembly.GetName().Version?.ToString() ?? "",
        ["ml.net"] = typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "",
        ["dotnet"] = Environment.Version.ToString(),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
    };

    private static void Scatter(double[] values, int[] positions, double[] target)
    {
        for (var i = 0; i < positions.Length; i++)
        {
            target[positions[i]] = values[i];
        }
    }

    private static float[] Gather(float[] matrix, int width, int[] rows)
    {
        var result = new float[rows.Length * width];
        for (var i = 0; i < rows.Length; i++)
        {
            matrix.AsSpan(rows[i] * width, width).CopyTo(result.AsSpan(i * width, width));
        }
        return result;
    }
}
