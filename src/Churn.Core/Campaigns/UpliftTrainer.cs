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
    /// LightGBM settings; the tree count is early-stopped on a fifth of each training fold. Uplift is a small
    /// difference between noisy estimates, so the trees are shallow, slow and need many rows per leaf: on Hillstrom
    /// (bench/results/uplift.md) these settings gave a Qini coefficient of 0.062 against 0.045 for 15 leaves of 100 rows.
    /// </summary>
    public TreeSettings Trees { get; init; } = new() { LearningRate = 0.03, Leaves = 3, MinRowsPerLeaf = 300, MaxTrees = 800, EarlyStoppingRounds = 50, L2 = 1 };
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
    /// Cross-validates every <see cref="UpliftMethod"/> and the baselines. Folds are stratified on arm × outcome;
    /// held-out scores of all folds are pooled before the metrics, as in the product's benchmark protocol.
    /// </summary>
    /// <exception cref="InvalidDataException">An arm has too few customers or responders for the folds.</exception>
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
        var folds = DataSplits.StratifiedFolds(strata, options.Folds, options.Seed);
        var encoder = data.FitEncoder();
        var matrix = encoder.EncodeAll(data.Features);
        var fitter = new ArmFitter(options.Seed, encoder.Width, matrix, options.Trees);
        var scores = Enum.GetValues<UpliftMethod>().ToDictionary(m => m, _ => new double[data.Count]);
        var response = new double[data.Count];
        for (var fold = 0; fold < options.Folds; fold++)
        {
            var test = DataSplits.Rows(folds, fold, inFold: true);
            var train = DataSplits.Rows(folds, fold, inFold: false);
            foreach (var method in Enum.GetValues<UpliftMethod>())
            {
                var predicted = fitter.Fit(method, data, train).Score(test);
                for (var j = 0; j < test.Length; j++)
                {
                    scores[method][test[j]] = predicted[j];
                }
            }
            var responseModel = fitter.FitOne([.. train], data.Outcomes, weights: null);
            var responseScores = fitter.Probabilities(responseModel, matrix, test);
            for (var j = 0; j < test.Length; j++)
            {
                response[test[j]] = responseScores[j];
            }
        }
        var candidates = scores.Select(kv => new UpliftCandidate(kv.Key, UpliftMetrics.Evaluate(kv.Value, data.Treated, data.Outcomes, options.Resamples, options.Seed))).ToList();
        var best = candidates.MaxBy(c => c.Score.Qini.Value)!;
        var random = new Random(options.Seed);
        var randomScores = Enumerable.Range(0, data.Count).Select(_ => random.NextDouble()).ToArray();
        var curve = UpliftMetrics.QiniCurve(scores[best.Method], data.Treated, data.Outcomes);
        return new UpliftReport(best.Method, best.Score, candidates,
            UpliftMetrics.Evaluate(randomScores, data.Treated, data.Outcomes, options.Resamples, options.Seed),
            UpliftMetrics.Evaluate(response, data.Treated, data.Outcomes, options.Resamples, options.Seed),
            data.Count, data.Treated.Count(t => t), data.Treated.Count(t => !t), options.Folds, Thin(curve));
    }

    /// <summary>
    /// Fits one method on every customer, for scoring new ones (after <see cref="CrossValidate"/> has chosen it).
    /// </summary>
    public static UpliftModel Fit(UpliftData data, UpliftMethod method, UpliftOptions options)
    {
        var encoder = data.FitEncoder();
        var fitter = new ArmFitter(options.Seed, encoder.Width, encoder.EncodeAll(data.Features), options.Trees);
        return new UpliftModel(data.Features.Schema, encoder, fitter.Fit(method, data, [.. Enumerable.Range(0, data.Count)]));
    }

    private static List<QiniPoint> Thin(IReadOnlyList<QiniPoint> curve)
    {
        if (curve.Count <= CurvePoints)
        {
            return [.. curve];
        }
        return [.. Enumerable.Range(0, CurvePoints).Select(i => curve[(int)Math.Round(i * (curve.Count - 1) / (double)(CurvePoints - 1))])];
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
internal sealed class FittedUplift(ArmFitter fitter, UpliftMethod method, ITransformer first, ITransformer? second)
{
    public UpliftMethod Method => method;

    public double[] Score(IReadOnlyList<int> rows) => Score(fitter.Matrix, rows);

    public double[] Score(float[] matrix, IReadOnlyList<int> rows)
    {
        var a = fitter.Probabilities(first, matrix, rows);
        if (method == UpliftMethod.TwoModel)
        {
            var c = fitter.Probabilities(second!, matrix, rows);
            return [.. a.Zip(c, (t, k) => t - k)];
        }
        return [.. a.Select(p => 2 * p - 1)];
    }
}

/// <summary>Fits the LightGBM models behind each uplift method on rows of one encoded matrix.</summary>
internal sealed class ArmFitter
{
    private readonly Learners _learners;
    private readonly SchemaDefinition _schema;
    private readonly float[] _matrix;
    private readonly int _width;
    private readonly int _seed;
    private readonly TreeSettings _trees;

    public ArmFitter(int seed, int width, float[] matrix, TreeSettings trees)
    {
        _learners = new Learners(seed, width);
        _seed = seed;
        _width = width;
        _matrix = matrix;
        _trees = trees;
        _schema = SchemaDefinition.Create(typeof(WeightedRow));
        _schema[nameof(WeightedRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
    }

    public FittedUplift Fit(UpliftMethod method, UpliftData data, int[] rows)
    {
        if (method == UpliftMethod.TwoModel)
        {
            var treated = rows.Where(r => data.Treated[r]).ToArray();
            var control = rows.Where(r => !data.Treated[r]).ToArray();
            return new FittedUplift(this, method, FitOne(treated, data.Outcomes, null), FitOne(control, data.Outcomes, null));
        }
        // Z is 1 for a treated responder or a control non-responder; weighting each arm to half the rows makes
        // 2·P(Z) − 1 an unbiased uplift however unequal the split (a 10 % holdout, say).
        var z = new bool[data.Count];
        foreach (var r in rows)
        {
            z[r] = data.Treated[r] == data.Outcomes[r];
        }
        var nTreated = rows.Count(r => data.Treated[r]);
        var nControl = rows.Length - nTreated;
        var weights = new float[data.Count];
        foreach (var r in rows)
        {
            weights[r] = (float)(rows.Length / (2.0 * (data.Treated[r] ? nTreated : nControl)));
        }
        return new FittedUplift(this, method, FitOne(rows, z, weights), null);
    }

    /// <summary>LightGBM early-stopped on a stratified fifth of <paramref name="rows"/>.</summary>
    public ITransformer FitOne(int[] rows, bool[] labels, float[]? weights)
    {
        var local = rows.Select(r => labels[r]).ToArray();
        var (fit, validation) = DataSplits.StratifiedSplit(local, 0.2, _seed);
        var options = _learners.LightGbmOptions(_trees, _trees.MaxTrees, _trees.EarlyStoppingRounds);
        options.ExampleWeightColumnName = nameof(WeightedRow.Weight);
        var trainer = _learners.Context.BinaryClassification.Trainers.LightGbm(options);
        return trainer.Fit(View([.. fit.Select(i => rows[i])], labels, weights), View([.. validation.Select(i => rows[i])], labels, weights));
    }

    public float[] Matrix => _matrix;

    public double[] Probabilities(ITransformer model, float[] matrix, IReadOnlyList<int> rows) =>
        Learners.Probabilities(model, View(matrix, rows, new bool[matrix.Length / _width], null));

    private IDataView View(IReadOnlyList<int> rows, bool[] labels, float[]? weights) => View(_matrix, rows, labels, weights);

    private IDataView View(float[] matrix, IReadOnlyList<int> rows, bool[] labels, float[]? weights)
    {
        var items = new WeightedRow[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            items[i] = new WeightedRow { Features = matrix.AsSpan(r * _width, _width).ToArray(), Label = labels[r], Weight = weights?[r] ?? 1f };
        }
        return _learners.Context.Data.LoadFromEnumerable(items, _schema);
    }

    private sealed class WeightedRow
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public float Weight { get; set; }
    }
}
