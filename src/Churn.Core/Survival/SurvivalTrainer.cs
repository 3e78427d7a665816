using Churn.Core.Models;
using Churn.Core.Training;

namespace Churn.Core.Survival;

/// <summary>The survival learner.</summary>
public enum SurvivalMethod
{
    /// <summary>
    /// A gradient-boosted discrete-time hazard model (<see cref="DiscreteHazardModel"/>), mixed with the Cox model at the
    /// weight (1, 0.75 or 0.5 on the boosted curves) that ranks held-out customers best.
    /// </summary>
    BoostedHazard,
    /// <summary>The Cox proportional-hazards baseline (<see cref="CoxModel"/>).</summary>
    Cox,
}

/// <summary>How a survival model is trained.</summary>
public sealed record SurvivalOptions
{
    public SurvivalMethod Method { get; init; } = SurvivalMethod.BoostedHazard;
    public int Seed { get; init; } = 42;

    /// <summary>The registered model name; survival models have their own, apart from the classifier's.</summary>
    public string ModelName { get; init; } = DefaultModelName;

    /// <summary>The name survival models are registered under unless told otherwise.</summary>
    public const string DefaultModelName = "churn-survival";

    /// <summary>Share of the customers held out to evaluate the model (stratified on the event).</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Share of the training customers held out for early stopping and the blend weight.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>At most this many intervals in the time grid; more distinct event times are merged at quantiles.</summary>
    public int MaxIntervals { get; init; } = 36;

    /// <summary>The ridge penalty of the Cox model.</summary>
    public double CoxRidge { get; init; } = CoxModel.DefaultRidge;

    /// <summary>Weights of the boosted curves tried in the mixture with Cox.</summary>
    public IReadOnlyList<double> BlendWeights { get; init; } = [1, 0.75, 0.5];

    /// <summary>LightGBM settings of the boosted hazard.</summary>
    public TreeSettings Trees { get; init; } = new() { LearningRate = 0.05, Leaves = 15, MinRowsPerLeaf = 50, L2 = 1, MaxTrees = 1000, EarlyStoppingRounds = 50 };
}

/// <summary>A trained survival model and its evaluation on held-out customers.</summary>
/// <param name="Model">The model, fitted on the training customers.</param>
/// <param name="Test">C-index, integrated Brier score and calibration on the held-out test customers.</param>
/// <param name="TrainRows">Customers the model was fitted on.</param>
/// <param name="TestRows">Customers it was evaluated on.</param>
/// <param name="Notes">Warnings about the data, such as covariates that track the duration.</param>
public sealed record SurvivalTrainingResult(SurvivalModel Model, SurvivalEvaluation Test, int TrainRows, int TestRows, IReadOnlyList<string> Notes);

/// <summary>Cross-validation of the survival recipe: the metrics on each held-out fold.</summary>
public sealed record SurvivalCrossValidation(int Folds, MetricSpread CIndex, MetricSpread IntegratedBrier, IReadOnlyList<HorizonCalibration> PooledCalibration);

/// <summary>Trains and evaluates survival models.</summary>
public static class SurvivalTrainer
{
    /// <summary>
    /// Splits the customers (stratified on the event, seeded) into training and test parts, fits the model on the
    /// training part and evaluates it on the test part.
    /// </summary>
    /// <exception cref="ArgumentException">A horizon beyond the longest observed duration, or too few events to train on.</exception>
    public static SurvivalTrainingResult Train(SurvivalData data, SurvivalOptions options)
    {
        RequireTrainable(data);
        var (train, test) = Split(data, options);
        var trainData = data.Select(train);
        var testData = data.Select(test);
        var model = Fit(trainData, options);
        var evaluation = model.Evaluate(testData);
        var notes = DurationLeakage.Check(data);
        var card = new SurvivalCard
        {
            ModelName = options.ModelName,
            CreatedAt = DateTimeOffset.UtcNow,
            Seed = options.Seed,
            Parameters = model.Parameters,
            Schema = data.Schema.ToJson(),
            Grid = model.Grid,
            BoostedWeight = model.BoostedWeight,
            Test = evaluation,
            TrainRows = train.Length,
            TestRows = test.Length,
            DataFingerprint = data.Covariates.Fingerprint,
            Notes = notes,
            Segments = SegmentSurvival.Of(data),
        };
        return new SurvivalTrainingResult(model.WithCard(card), evaluation, train.Length, test.Length, notes);
    }

    /// <summary>The training and held-out test rows <see cref="Train"/> uses: stratified on the event, seeded.</summary>
    public static (int[] Train, int[] Test) Split(SurvivalData data, SurvivalOptions options) =>
        DataSplits.StratifiedSplit(data.Events, options.TestFraction, options.Seed);

    /// <summary>
    /// Cross-validates the recipe; <paramref name="folds"/> gives each row's fold (or null for folds stratified on the
    /// event with the seed). The C-index and integrated Brier score are computed on each held-out fold; the calibration on
    /// the pooled held-out predictions.
    /// </summary>
    public static SurvivalCrossValidation CrossValidate(SurvivalData data, SurvivalOptions options, int k, int[]? folds = null, IProgress<string>? progress = null)
    {
        RequireTrainable(data);
        (folds, k) = DataSplits.CrossValidationFolds(data.Events, k, options.Seed, folds);
        var cIndex = new List<double>();
        var brier = new List<double>();
        var pooledRows = new List<int>();
        var pooledCurves = new List<double[]>();
        IReadOnlyList<double>? grid = null;
        for (var f = 0; f < k; f++)
        {
            progress?.Report($"fold {f + 1}/{k}");
            var trainRows = DataSplits.Rows(folds, f, false);
            var testRows = DataSplits.Rows(folds, f, true);
            if (testRows.Length == 0)
            {
                continue;
            }
            var model = Fit(data.Select(trainRows), options);
            var test = data.Select(testRows);
            var evaluation = model.Evaluate(test);
            cIndex.Add(evaluation.CIndex);
            brier.Add(evaluation.IntegratedBrier);
            // Pooled calibration reads every fold's curves at the horizons, so the grids need not match.
            var curves = model.Predict(test.Covariates);
            grid ??= data.Schema.Horizons;
            for (var i = 0; i < testRows.Length; i++)
            {
                pooledRows.Add(testRows[i]);
                pooledCurves.Add([.. grid.Select(h => curves.At(i, h))]);
            }
        }
        var pooled = new SurvivalCurves(grid!, [.. pooledCurves]);
        var calibration = SurvivalMetrics.Calibration(pooled, [.. pooledRows.Select(r => data.Durations[r])], [.. pooledRows.Select(r => data.Events[r])], data.Schema.Horizons);
        return new SurvivalCrossValidation(cIndex.Count, ChurnTrainer.Spread(cIndex), ChurnTrainer.Spread(brier), calibration);
    }

    /// <summary>Fits the chosen method on all of <paramref name="data"/> (the held-out split for early stopping and the blend is drawn inside it).</summary>
    public static SurvivalModel Fit(SurvivalData data, SurvivalOptions options)
    {
        RequireTrainable(data);
        var grid = TimeGrid(data, options.MaxIntervals);
        var cox = CoxModel.Fit(data, options.CoxRidge);
        if (options.Method == SurvivalMethod.Cox)
        {
            return new SurvivalModel(data.Schema, grid, cox, null, 0, new Dictionary<string, string>
            {
                ["method"] = "cox",
                ["ridge"] = Invariant(options.CoxRidge),
                ["intervals"] = Invariant(grid.Count),
            });
        }

        var (fit, hold) = DataSplits.StratifiedSplit(data.Events, options.ValidationFraction, options.Seed + 1);
        var fitData = data.Select(fit);
        var holdData = data.Select(hold);
        var stopped = DiscreteHazardModel.FitEarlyStopped(fitData, holdData, grid, options.Trees, options.Seed);
        var weight = 1.0;
        if (options.BlendWeights.Count > 1)
        {
            // The mixture weight is chosen on customers neither model saw: both are fitted on the same part here.
            var coxHeld = CoxModel.Fit(fitData, options.CoxRidge).Predict(holdData.Covariates, grid);
            var boostedHeld = stopped.Predict(holdData.Covariates);
            var best = double.NegativeInfinity;
            foreach (var w in options.BlendWeights)
            {
                var c = SurvivalMetrics.ConcordanceIndex(holdData.Durations, holdData.Events, SurvivalCurves.Blend(boostedHeld, coxHeld, w).RiskScores(data.Schema.Horizons[^1]));
                if (c > best + 1e-9)
                {
                    best = c;
                    weight = w;
                }
            }
        }
        var boosted = DiscreteHazardModel.Fit(data, grid, options.Trees, options.Seed, stopped.Trees);
        return new SurvivalModel(data.Schema, grid, cox, boosted, weight, new Dictionary<string, string>
        {
            ["method"] = "boostedHazard",
            ["trees"] = Invariant(stopped.Trees),
            ["boostedWeight"] = Invariant(weight),
            ["learningRate"] = Invariant(options.Trees.LearningRate),
            ["leaves"] = Invariant(options.Trees.Leaves),
            ["minRowsPerLeaf"] = Invariant(options.Trees.MinRowsPerLeaf),
            ["ridge"] = Invariant(options.CoxRidge),
            ["intervals"] = Invariant(grid.Count),
        });
    }

    /// <summary>
    /// The time grid: every distinct event time when there are at most <paramref name="maxIntervals"/>, else event-time
    /// quantiles; the horizons are always on it so horizon probabilities are read exactly.
    /// </summary>
    public static IReadOnlyList<double> TimeGrid(SurvivalData data, int maxIntervals)
    {
        var eventTimes = data.Durations.Where((_, i) => data.Events[i]).Where(t => t > 0).Order().ToArray();
        var distinct = eventTimes.Distinct().ToArray();
        IEnumerable<double> points = distinct;
        if (distinct.Length > maxIntervals)
        {
            points = Enumerable.Range(1, maxIntervals).Select(q => eventTimes[Math.Min(eventTimes.Length - 1, (int)Math.Ceiling((double)q / maxIntervals * eventTimes.Length) - 1)]);
        }
        var longest = data.LongestDuration;
        return [.. points.Concat(data.Schema.Horizons.Where(h => h <= longest)).Where(t => t > 0).Distinct().Order()];
    }

    private static void RequireTrainable(SurvivalData data)
    {
        var longest = data.LongestDuration;
        var beyond = data.Schema.Horizons.FirstOrDefault(h => h > longest);
        if (beyond > 0)
        {
            throw new ArgumentException($"horizon {Invariant(beyond)} is beyond the longest observed duration ({Invariant(longest)}) in column '{data.Schema.DurationColumn}'; nothing in the data says what happens that late, so choose horizons up to {Invariant(longest)}.");
        }
        var events = data.Events.Count(e => e);
        if (events < 10)
        {
            throw new ArgumentException($"only {events} customers have the event in column '{data.Schema.EventColumn}'; at least 10 are needed to train a survival model.");
        }
    }

    private static string Invariant(double v) => v.ToString(CultureInfo.InvariantCulture);
}
