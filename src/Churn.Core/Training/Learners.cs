using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Churn.Core.Training;

/// <summary>The learner behind a model.</summary>
public enum TrainerKind
{
    /// <summary>Gradient-boosted trees (LightGBM), early-stopped, blended with a logistic model when that helps.</summary>
    LightGbm,
    /// <summary>Gradient-boosted trees (FastTree, MART).</summary>
    FastTree,
    /// <summary>L-BFGS logistic regression on standardised features: the baseline.</summary>
    Logistic,
}

/// <summary>Row type fed to ML.NET: the encoded vector and the label.</summary>
internal sealed class EncodedRow
{
    public float[] Features { get; set; } = [];
    public bool Label { get; set; }
}

/// <summary>Row type read back from ML.NET binary classifiers.</summary>
internal sealed class ScoredRow
{
    public float Probability { get; set; }
}

/// <summary>Tree-learner settings; defaults are the tuned values measured on the reference datasets.</summary>
public sealed record TreeSettings
{
    public double LearningRate { get; init; } = 0.05;
    public int Leaves { get; init; } = 15;
    public int MinRowsPerLeaf { get; init; } = 50;
    public double L2 { get; init; } = 1.0;
    public int MaxTrees { get; init; } = 500;
    public int EarlyStoppingRounds { get; init; } = 50;
}

/// <summary>Thin, seeded wrappers over the ML.NET trainers working on encoded matrices.</summary>
internal sealed class Learners
{
    private readonly MLContext _ml;
    private readonly SchemaDefinition _schema;
    private readonly int _seed;
    private readonly int _width;

    public Learners(int seed, int width)
    {
        NativeThreading.PreferPassiveWaiting();
        _seed = seed;
        _width = width;
        _ml = new MLContext(seed);
        _schema = CreateSchema(width);
    }

    public MLContext Context => _ml;

    public static SchemaDefinition CreateSchema(int width)
    {
        var schema = SchemaDefinition.Create(typeof(EncodedRow));
        schema[nameof(EncodedRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    public IDataView View(float[] matrix, bool[] labels, IReadOnlyList<int> rows)
    {
        var items = new EncodedRow[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            items[i] = new EncodedRow { Features = matrix.AsSpan(r * _width, _width).ToArray(), Label = labels[r] };
        }
        return _ml.Data.LoadFromEnumerable(items, _schema);
    }

    /// <summary>
    /// OpenMP threads of every LightGBM fit: one fewer than the machine's cores, at least one (ADR 0008). On 2 cores one
    /// thread fitted the 64k-row file's trees in about half the time two did, and it leaves a core for the work a
    /// training runs beside its fits (the logistic folds, a server's requests).
    /// </summary>
    internal static int LightGbmThreads => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>LightGBM with early stopping on <paramref name="validation"/>; returns the model and its tree count.</summary>
    public (ITransformer Model, int Trees) LightGbmEarlyStopped(IDataView train, IDataView validation, TreeSettings s)
    {
        var trainer = _ml.BinaryClassification.Trainers.LightGbm(LightGbmOptions(s, s.MaxTrees, s.EarlyStoppingRounds));
        var model = trainer.Fit(train, validation);
        return (model, model.Model.SubModel.TrainedTreeEnsemble.Trees.Count);
    }

    /// <summary>LightGBM with a fixed tree count (the refit after early stopping chose it).</summary>
    public ITransformer LightGbm(IDataView train, TreeSettings s, int trees) =>
        _ml.BinaryClassification.Trainers.LightGbm(LightGbmOptions(s, trees, 0)).Fit(train);

    public ITransformer FastTree(IDataView train, TreeSettings s, int trees)
    {
        var pipeline = _ml.Transforms.ReplaceMissingValues(nameof(EncodedRow.Features), replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean)
            .Append(_ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = trees,
                NumberOfLeaves = s.Leaves,
                MinimumExampleCountPerLeaf = s.MinRowsPerLeaf,
                LearningRate = s.LearningRate,
                Seed = _seed,
                NumberOfThreads = Environment.ProcessorCount,
            }));
        return pipeline.Fit(train);
    }

    /// <summary>Logistic regression on mean-imputed, centred and scaled features.</summary>
    public ITransformer Logistic(IDataView train)
    {
        var pipeline = _ml.Transforms.ReplaceMissingValues(nameof(EncodedRow.Features), replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean)
            // fixZero: false centres as well as scales; without it the optimiser lands on a worse model.
            .Append(_ml.Transforms.NormalizeMeanVariance(nameof(EncodedRow.Features), fixZero: false))
            .Append(_ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                L2Regularization = 1f,
                L1Regularization = 0f,
                NumberOfThreads = 1,
            }));
        return pipeline.Fit(train);
    }

    /// <summary>Probabilities of a model for a view, in row order.</summary>
    public static double[] Probabilities(ITransformer model, IDataView view)
    {
        var scored = model.Transform(view);
        return [.. scored.GetColumn<float>("Probability").Select(p => (double)p)];
    }

    /// <summary>The LightGBM options every model here uses: seeded, deterministic, quiet.</summary>
    internal LightGbmBinaryTrainer.Options LightGbmOptions(TreeSettings s, int trees, int earlyStopping) =>
        WithTreeSettings(new LightGbmBinaryTrainer.Options(), s, trees, earlyStopping);

    /// <summary>The same settings for a LightGBM regression of the float column <paramref name="label"/>.</summary>
    internal LightGbmRegressionTrainer.Options LightGbmRegressionOptions(TreeSettings s, int trees, int earlyStopping, string label)
    {
        var options = WithTreeSettings(new LightGbmRegressionTrainer.Options(), s, trees, earlyStopping);
        options.LabelColumnName = label;
        return options;
    }

    // The binary and regression options share their LightGBM settings through the trainers' common options base, so the
    // tuned values, the seed and determinism are set in this one place for every LightGBM model.
    private TOptions WithTreeSettings<TOptions, TOutput, TTransformer, TModel>(
        LightGbmTrainerBase<TOptions, TOutput, TTransformer, TModel>.OptionsBase options, TreeSettings s, int trees, int earlyStopping)
        where TOptions : LightGbmTrainerBase<TOptions, TOutput, TTransformer, TModel>.OptionsBase, new()
        where TTransformer : ISingleFeaturePredictionTransformer<TModel>
        where TModel : class
    {
        options.NumberOfIterations = trees;
        options.LearningRate = s.LearningRate;
        options.NumberOfLeaves = s.Leaves;
        options.MinimumExampleCountPerLeaf = s.MinRowsPerLeaf;
        options.EarlyStoppingRound = earlyStopping;
        options.Booster = new GradientBooster.Options { L2Regularization = s.L2 };
        options.Seed = _seed;
        options.Deterministic = true;
        options.NumberOfThreads = LightGbmThreads;
        options.Silent = true;
        options.Verbose = false;
        return (TOptions)options;
    }
}
