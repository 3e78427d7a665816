using Churn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Churn.Core.Campaigns;

/// <summary>How an uplift model estimates the effect of treatment on one customer.</summary>
public enum UpliftMethod
{
    /// <summary>
    /// Two models, one LightGBM per arm; uplift = P(outcome | treated, x) − P(outcome | control, x)
    /// (the "T-learner"; Künzel et al., 2019, PNAS 116:4156-4165).
    /// </summary>
    TwoModel,

    /// <summary>
    /// Class transformation: one LightGBM for Z = 1 when a treated customer responds or a control customer does not,
    /// with the arms weighted to equal size; uplift = 2·P(Z = 1 | x) − 1 (Jaskowski and Jaroszewicz, 2012, ICML
    /// workshop on clinical data analysis).
    /// </summary>
    ClassTransformation,

    /// <summary>
    /// The X-learner (Künzel et al., 2019, PNAS 116:4156-4165): the two-model fits impute each customer's own effect
    /// (a treated customer's outcome minus the control model's prediction, and the treated model's prediction minus a
    /// control customer's outcome); one LightGBM regression per arm smooths those imputed effects, and the two are
    /// averaged with the treated share as weight, so the larger arm's estimate counts more where it is better informed.
    /// </summary>
    XLearner,

    /// <summary>
    /// One logistic regression on the features, the arm and every arm × feature product; uplift =
    /// P(outcome | treated, x) − P(outcome | control, x) (Lo, 2002, "The true lift model", SIGKDD Explorations 4(2):78-86).
    /// Smooth and low in variance, it suits campaigns whose effect changes gradually with the features.
    /// </summary>
    LogisticInteraction,
}

/// <summary>Settings of uplift training; defaults are those of the product's published figures.</summary>
public sealed record UpliftOptions
{
    /// <summary>Folds of the cross-validation whose held-out scores judge each method.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Seed of the folds, the learners, the random baseline and the bootstrap.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Bootstrap resamples behind every interval.</summary>
    public int Resamples { get; init; } = 200;

    /// <summary>
    /// LightGBM settings; the tree count is early-stopped on held-out rows of each training fold. Uplift is a small
    /// difference between noisy estimates, so the trees are shallow, slow and need many rows per leaf: on Hillstrom
    /// (bench/results/uplift.md) these settings gave a Qini coefficient of 0.062 against 0.045 for 15 leaves of 100 rows.
    /// </summary>
    public TreeSettings Trees { get; init; } = new() { LearningRate = 0.03, Leaves = 3, MinRowsPerLeaf = 300, MaxTrees = 800, EarlyStoppingRounds = 50, L2 = 1 };

    /// <summary>
    /// Models averaged behind every LightGBM estimate. With more than one, the training rows are cut into this many
    /// stratified parts and each model is trained on all parts but one and early-stopped on that one, so every row trains
    /// most models and the average carries less of any one split's noise; with one, a fifth of the rows is held out once.
    /// </summary>
    public int Bags { get; init; } = 5;

    /// <summary>
    /// A published fold assignment: the fold of each customer, keyed by the customer's 0-based data row in the file it was
    /// read from (<see cref="UpliftData.SourceRows"/>). Null draws stratified folds with <see cref="Seed"/>.
    /// </summary>
    public IReadOnlyDictionary<int, int>? FoldOfRow { get; init; }
}

/// <summary>One method's out-of-fold figures.</summary>
public sealed record UpliftCandidate(UpliftMethod Method, UpliftScore Score);

/// <summary>
/// The cross-validated judgement of uplift methods on campaign history: each method's out-of-fold Qini coefficient
/// and uplift at 30 % with bootstrap intervals, the chosen method (highest Qini), and two baselines that ignore who
/// is persuadable: a random order, and a response model that ranks by P(outcome) ignoring the arm.
/// </summary>
public sealed record UpliftReport(
    UpliftMethod Chosen,
    UpliftScore Score,
    IReadOnlyList<UpliftCandidate> Candidates,
    UpliftScore RandomOrder,
    UpliftScore ResponseModel,
    int Customers,
    int Treated,
    int Control,
    int Folds,
    IReadOnlyList<QiniPoint> QiniCurve);

/// <summary>Trains and judges uplift models by K-fold cross-validation on randomised campaign history.</summary>
public static class UpliftTrainer
{
    /// <summary>Points kept of the chosen method's Qini curve, enough to draw it.</summary>
    public const int CurvePoints = 101;

    /// <summary>
    /// Cross-validates every <see cref="UpliftMethod"/> and the baselines. Folds are stratified on arm × outcome (or
    /// taken from <see cref="UpliftOptions.FoldOfRow"/>); held-out scores of all folds are pooled before the metrics, as
    /// in the product's benchmark protocol.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// An arm has too few customers or responders for the folds, or the given fold assignment misses a customer or
    /// names a fold outside [0, <see cref="UpliftOptions.Folds"/>).
    /// </exception>
    public static UpliftReport CrossValidate(UpliftData data, UpliftOptions options)
    {
        var strata = Enumerable.Range(0, data.Count).Select(i => (data.Treated[i] ? 2 : 0) + (data.Outcomes[i] ? 1 : 0)).ToArray();
        for (var s = 0; s < 4; s++)
        {
            if (strata.Count(x => x == s) < options.Folds)
            {
                throw new InvalidDataException($"Each arm needs at least {options.Folds} customers with and {options.Folds} without the outcome for {options.Folds}-fold cross-validation.");
            }
        }
        var folds = options.FoldOfRow is { } given ? GivenFolds(data, given, options.Folds) : DataSplits.StratifiedFolds(strata, options.Folds, options.Seed);
        var encoder = data.FitEncoder();
        var matrix = encoder.EncodeAll(data.Features);
        var fitter = new ArmFitter(options, encoder.Width, matrix);
        var methods = Enum.GetValues<UpliftMethod>();
        var scores = methods.ToDictionary(m => m, _ => new double[data.Count]);
        var response = new double[data.Count];
        for (var fold = 0; fold < options.Folds; fold++)
        {
            var test = DataSplits.Rows(folds, fold, inFold: true);
            var train = DataSplits.Rows(folds, fold, inFold: false);
            foreach (var (method, fitted) in fitter.FitAll(data, train, methods))
            {
                var predicted = fitted.Score(matrix, test);
                for (var j = 0; j < test.Length; j++)
                {
                    scores[method][test[j]] = predicted[j];
                }
            }
            var responseScores = fitter.FitOne(train, data.Outcomes, weights: null).Probabilities(matrix, test);
            for (var j = 0; j < test.Length; j++)
            {
                response[test[j]] = responseScores[j];
            }
        }
        var candidates = methods.Select(m => new UpliftCandidate(m, UpliftMetrics.Evaluate(scores[m], data.Treated, data.Outcomes, options.Resamples, options.Seed))).ToList();
        var best = candidates.MaxBy(c => c.Score.Qini.Value)!;
        var random = new Random(options.Seed);
        var randomScores = Enumerable.Range(0, data.Count).Select(_ => random.NextDouble()).ToArray();
        var curve = UpliftMetrics.QiniCurve(scores[best.Method], data.Treated, data.Outcomes);
        return new UpliftReport(best.Method, best.Score, candidates,
            UpliftMetrics.Evaluate(randomScores, data.Treated, data.Outcomes, options.Resamples, options.Seed),
            UpliftMetrics.Evaluate(response, data.Treated, data.Outcomes, options.Resamples, options.Seed),
            data.Count, data.Treated.Count(t => t), data.Treated.Count(t => !t), options.Folds, UpliftMetrics.Thin(curve, CurvePoints));
    }

    /// <summary>
    /// Fits one method on every customer, for scoring new ones (after <see cref="CrossValidate"/> has chosen it).
    /// </summary>
    public static UpliftModel Fit(UpliftData data, UpliftMethod method, UpliftOptions options)
    {
        var encoder = data.FitEncoder();
        var fitter = new ArmFitter(options, encoder.Width, encoder.EncodeAll(data.Features));
        return new UpliftModel(data.Features.Schema, encoder, fitter.FitAll(data, [.. Enumerable.Range(0, data.Count)], [method])[method]);
    }

    private static int[] GivenFolds(UpliftData data, IReadOnlyDictionary<int, int> given, int k)
    {
        var folds = new int[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            var row = data.SourceRows[i];
            if (!given.TryGetValue(row, out var fold))
            {
                throw new InvalidDataException($"The fold assignment has no fold for data row {row} (0-based).");
            }
            if (fold < 0 || fold >= k)
            {
                throw new InvalidDataException($"The fold assignment puts data row {row} in fold {fold}; folds run from 0 to {k - 1}.");
            }
            folds[i] = fold;
        }
        return folds;
    }

}

/// <summary>
/// An uplift model fitted on campaign history: scores new customers with their expected uplift, the rise in the
/// probability of the wanted outcome if treated (for a churn campaign trained with the goal "decrease", the fall in
/// churn probability if contacted). Negative scores mark customers whom treatment is expected to push away.
/// </summary>
public sealed class UpliftModel
{
    private readonly Features.FeatureEncoder _encoder;
    private readonly FittedUplift _fitted;

    internal UpliftModel(Schema.DatasetSchema schema, Features.FeatureEncoder encoder, FittedUplift fitted)
    {
        Schema = schema;
        _encoder = encoder;
        _fitted = fitted;
    }

    /// <summary>The schema new customers are loaded with (its features, in the model's order).</summary>
    public Schema.DatasetSchema Schema { get; }

    /// <summary>The method behind the scores.</summary>
    public UpliftMethod Method => _fitted.Method;

    /// <summary>Expected uplift of every row, in row order.</summary>
    /// <exception cref="ArgumentException">The dataset's features are not the model's.</exception>
    public double[] Score(Data.Dataset customers)
    {
        if (!customers.Schema.Features.SequenceEqual(Schema.Features))
        {
            throw new ArgumentException("The customers must be loaded with the model's schema.", nameof(customers));
        }
        return _fitted.Score(_encoder.EncodeAll(customers), [.. Enumerable.Range(0, customers.RowCount)]);
    }
}

/// <summary>A fitted uplift model over encoded rows: scores are expected uplift (higher means more persuadable).</summary>
internal sealed class FittedUplift(UpliftMethod method, Func<float[], IReadOnlyList<int>, double[]> score)
{
    public UpliftMethod Method => method;

    /// <summary>Expected uplift of <paramref name="rows"/> of a row-major encoded matrix.</summary>
    public double[] Score(float[] matrix, IReadOnlyList<int> rows) => score(matrix, rows);
}

/// <summary>Several models of one target whose predictions are averaged (see <see cref="UpliftOptions.Bags"/>).</summary>
internal sealed class Ensemble(ArmFitter fitter, IReadOnlyList<ITransformer> members, string column)
{
    /// <summary>The members' mean output (a probability, or a regression's score) for each row.</summary>
    public double[] Probabilities(float[] matrix, IReadOnlyList<int> rows)
    {
        var mean = new double[rows.Count];
        foreach (var member in members)
        {
            var output = fitter.Output(member, matrix, rows, column);
            for (var i = 0; i < mean.Length; i++)
            {
                mean[i] += output[i] / members.Count;
            }
        }
        return mean;
    }
}

/// <summary>Fits the models behind each uplift method on rows of one encoded matrix.</summary>
internal sealed class ArmFitter
{
    private readonly Learners _learners;
    private readonly SchemaDefinition _schema;
    private readonly float[] _matrix;
    private readonly int _width;
    private readonly int _seed;
    private readonly int _bags;
    private readonly TreeSettings _trees;

    public ArmFitter(UpliftOptions options, int width, float[] matrix)
    {
        _learners = new Learners(options.Seed, width);
        _seed = options.Seed;
        _bags = Math.Max(1, options.Bags);
        _width = width;
        _matrix = matrix;
        _trees = options.Trees;
        _schema = SchemaDefinition.Create(typeof(WeightedRow));
        _schema[nameof(WeightedRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
    }

    /// <summary>Fits each of <paramref name="methods"/> on <paramref name="rows"/>; the X-learner reuses the two-model fits.</summary>
    public Dictionary<UpliftMethod, FittedUplift> FitAll(UpliftData data, int[] rows, IReadOnlyCollection<UpliftMethod> methods)
    {
        var fitted = new Dictionary<UpliftMethod, FittedUplift>();
        var treated = rows.Where(r => data.Treated[r]).ToArray();
        var control = rows.Where(r => !data.Treated[r]).ToArray();
        (Ensemble Treated, Ensemble Control)? arms = null;
        if (methods.Contains(UpliftMethod.TwoModel) || methods.Contains(UpliftMethod.XLearner))
        {
            arms = (FitOne(treated, data.Outcomes, null), FitOne(control, data.Outcomes, null));
        }
        FittedUplift Get(UpliftMethod method)
        {
            if (!fitted.TryGetValue(method, out var model))
            {
                fitted[method] = model = method switch
                {
                    UpliftMethod.TwoModel => TwoModel(arms!.Value.Treated, arms.Value.Control),
                    UpliftMethod.ClassTransformation => ClassTransformation(data, rows),
                    UpliftMethod.XLearner => XLearner(data, treated, control, arms!.Value.Treated, arms.Value.Control),
                    _ => LogisticInteraction(data, rows),
                };
            }
            return model;
        }
        return methods.ToDictionary(m => m, Get);
    }


    private static FittedUplift TwoModel(Ensemble treated, Ensemble control) => new(UpliftMethod.TwoModel, (matrix, rows) =>
        [.. treated.Probabilities(matrix, rows).Zip(control.Probabilities(matrix, rows), (t, c) => t - c)]);

    private FittedUplift ClassTransformation(UpliftData data, int[] rows)
    {
        // Z is 1 for a treated responder or a control non-responder; weighting each arm to half the rows makes
        // 2·P(Z) − 1 an unbiased uplift however unequal the split (a 10 % holdout, say).
        var z = new bool[data.Count];
        foreach (var r in rows)
        {
            z[r] = data.Treated[r] == data.Outcomes[r];
        }
        var weights = ArmWeights(data, rows);
        var model = FitOne(rows, z, weights);
        return new FittedUplift(UpliftMethod.ClassTransformation, (matrix, scored) => [.. model.Probabilities(matrix, scored).Select(p => 2 * p - 1)]);
    }

    private FittedUplift XLearner(UpliftData data, int[] treated, int[] control, Ensemble treatedModel, Ensemble controlModel)
    {
        // Each arm's model is applied only to the other arm's rows, which it never saw: the imputed effects are honest.
        var effects = new float[data.Count];
        var fromControl = controlModel.Probabilities(_matrix, treated);
        for (var i = 0; i < treated.Length; i++)
        {
            effects[treated[i]] = (float)((data.Outcomes[treated[i]] ? 1 : 0) - fromControl[i]);
        }
        var fromTreated = treatedModel.Probabilities(_matrix, control);
        for (var i = 0; i < control.Length; i++)
        {
            effects[control[i]] = (float)(fromTreated[i] - (data.Outcomes[control[i]] ? 1 : 0));
        }
        var onTreated = FitRegression(treated, effects);
        var onControl = FitRegression(control, effects);
        // Künzel et al. weigh the control-based estimate by the propensity: with a random split, the treated share.
        var share = treated.Length / (double)(treated.Length + control.Length);
        return new FittedUplift(UpliftMethod.XLearner, (matrix, rows) =>
            [.. onControl.Probabilities(matrix, rows).Zip(onTreated.Probabilities(matrix, rows), (c, t) => share * c + (1 - share) * t)]);
    }

    private FittedUplift LogisticInteraction(UpliftData data, int[] rows)
    {
        // Columns: the features, the arm, and the arm times each feature. A missing feature stays missing in its product
        // and is imputed by the pipeline's mean, like the feature itself.
        var width = 2 * _width + 1;
        var learners = new Learners(_seed, width);
        var labels = new bool[rows.Length];
        var augmented = new float[rows.Length * width];
        for (var i = 0; i < rows.Length; i++)
        {
            Augment(_matrix, rows[i], data.Treated[rows[i]], augmented.AsSpan(i * width, width));
            labels[i] = data.Outcomes[rows[i]];
        }
        var model = learners.Logistic(learners.View(augmented, labels, [.. Enumerable.Range(0, rows.Length)]));
        return new FittedUplift(UpliftMethod.LogisticInteraction, (matrix, scored) =>
        {
            var asTreated = new float[scored.Count * width];
            var asControl = new float[scored.Count * width];
            for (var i = 0; i < scored.Count; i++)
            {
                Augment(matrix, scored[i], true, asTreated.AsSpan(i * width, width));
                Augment(matrix, scored[i], false, asControl.AsSpan(i * width, width));
            }
            var all = Enumerable.Range(0, scored.Count).ToArray();
            var none = new bool[scored.Count];
            var t = Learners.Probabilities(model, learners.View(asTreated, none, all));
            var c = Learners.Probabilities(model, learners.View(asControl, none, all));
            return [.. t.Zip(c, (a, b) => a - b)];
        });
    }

    private void Augment(float[] matrix, int row, bool treated, Span<float> into)
    {
        var x = matrix.AsSpan(row * _width, _width);
        x.CopyTo(into);
        var arm = treated ? 1f : 0f;
        into[_width] = arm;
        for (var j = 0; j < _width; j++)
        {
            into[_width + 1 + j] = arm * x[j];
        }
    }

    /// <summary>Weights that give each arm half of the total weight of <paramref name="rows"/>.</summary>
    private static float[] ArmWeights(UpliftData data, int[] rows)
    {
        var nTreated = rows.Count(r => data.Treated[r]);
        var nControl = rows.Length - nTreated;
        var weights = new float[data.Count];
        foreach (var r in rows)
        {
            weights[r] = (float)(rows.Length / (2.0 * (data.Treated[r] ? nTreated : nControl)));
        }
        return weights;
    }

    /// <summary>LightGBM classifiers early-stopped on held-out parts of <paramref name="rows"/> (see <see cref="UpliftOptions.Bags"/>).</summary>
    public Ensemble FitOne(int[] rows, bool[] labels, float[]? weights)
    {
        var members = new List<ITransformer>();
        foreach (var (fit, validation) in Parts(rows, rows.Select(r => labels[r]).ToArray()))
        {
            var options = _learners.LightGbmOptions(_trees, _trees.MaxTrees, _trees.EarlyStoppingRounds);
            options.ExampleWeightColumnName = nameof(WeightedRow.Weight);
            var trainer = _learners.Context.BinaryClassification.Trainers.LightGbm(options);
            members.Add(trainer.Fit(View(_matrix, fit, labels, null, weights), View(_matrix, validation, labels, null, weights)));
        }
        return new Ensemble(this, members, "Probability");
    }

    /// <summary>LightGBM regressions of <paramref name="targets"/>, early-stopped like <see cref="FitOne"/>.</summary>
    private Ensemble FitRegression(int[] rows, float[] targets)
    {
        // The parts are stratified on the sign of the target (the outcome behind it), as the classifiers' are on the label.
        var members = new List<ITransformer>();
        foreach (var (fit, validation) in Parts(rows, rows.Select(r => targets[r] > 0).ToArray()))
        {
            var trainer = _learners.Context.Regression.Trainers.LightGbm(_learners.LightGbmRegressionOptions(_trees, _trees.MaxTrees, _trees.EarlyStoppingRounds, nameof(WeightedRow.Target)));
            members.Add(trainer.Fit(View(_matrix, fit, null, targets, null), View(_matrix, validation, null, targets, null)));
        }
        return new Ensemble(this, members, "Score");
    }

    /// <summary>The (training, validation) row sets of each bag: stratified parts of <paramref name="rows"/>.</summary>
    private IEnumerable<(int[] Fit, int[] Validation)> Parts(int[] rows, bool[] strata)
    {
        if (_bags == 1)
        {
            var (fit, validation) = DataSplits.StratifiedSplit(strata, 0.2, _seed);
            yield return ([.. fit.Select(i => rows[i])], [.. validation.Select(i => rows[i])]);
            yield break;
        }
        var parts = DataSplits.StratifiedFolds(strata, _bags, _seed);
        for (var b = 0; b < _bags; b++)
        {
            yield return ([.. DataSplits.Rows(parts, b, inFold: false).Select(i => rows[i])], [.. DataSplits.Rows(parts, b, inFold: true).Select(i => rows[i])]);
        }
    }

    /// <summary>One output column of a model for rows of a matrix.</summary>
    public double[] Output(ITransformer model, float[] matrix, IReadOnlyList<int> rows, string column) =>
        [.. model.Transform(View(matrix, rows, null, null, null)).GetColumn<float>(column).Select(p => (double)p)];

    private IDataView View(float[] matrix, IReadOnlyList<int> rows, bool[]? labels, float[]? targets, float[]? weights)
    {
        var items = new WeightedRow[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            items[i] = new WeightedRow
            {
                Features = matrix.AsSpan(r * _width, _width).ToArray(),
                Label = labels?[r] ?? false,
                Target = targets?[r] ?? 0f,
                Weight = weights?[r] ?? 1f,
            };
        }
        return _learners.Context.Data.LoadFromEnumerable(items, _schema);
    }

    private sealed class WeightedRow
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public float Target { get; set; }
        public float Weight { get; set; }
    }
}
