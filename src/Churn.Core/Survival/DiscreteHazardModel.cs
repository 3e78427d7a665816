using Churn.Core.Features;
using Churn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Churn.Core.Survival;

/// <summary>
/// A gradient-boosted discrete-time hazard model: time is cut into the intervals of a grid, each customer becomes one
/// "person-period" row per interval they entered, labelled with whether they churned in it, and LightGBM learns
/// h_k(x) = P(churn in interval k | no churn before it, x) from the covariates and the interval's end time
/// (the person-period method: Singer and Willett, 1993; Tutz and Schmid, 2016, ch. 3–5). The survival curve is
/// S(g_k | x) = Π_{j ≤ k} (1 − h_j(x)).
/// </summary>
/// <remarks>
/// Censoring: a customer censored inside an interval contributes a non-event row weighted by the share of the interval
/// they were observed (the actuarial adjustment); one censored at an interval's end counts as having survived it; one
/// censored at time 0 contributes nothing. Events at time 0 fall in the first interval.
/// </remarks>
public sealed class DiscreteHazardModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly SchemaDefinition _schema;

    internal DiscreteHazardModel(MLContext ml, ITransformer model, FeatureEncoder encoder, IReadOnlyList<double> grid, int trees)
    {
        _ml = ml;
        _model = model;
        Encoder = encoder;
        Grid = grid;
        Trees = trees;
        _schema = PeriodRow.Schema(encoder.Width + 1);
    }

    public FeatureEncoder Encoder { get; }

    /// <summary>The interval end times, ascending; interval k is (Grid[k−1], Grid[k]] with Grid[−1] = 0.</summary>
    public IReadOnlyList<double> Grid { get; }

    /// <summary>The number of boosted trees, chosen by early stopping.</summary>
    public int Trees { get; }

    /// <summary>Writes the fitted LightGBM model with its input schema.</summary>
    internal void SaveTransformer(Stream stream) => _ml.Model.Save(_model, _ml.Data.LoadFromEnumerable(Array.Empty<PeriodRow>(), _schema).Schema, stream);

    /// <summary>
    /// Fits the model on <paramref name="train"/> with early stopping on the person-period rows of
    /// <paramref name="validation"/> (other customers), which picks the tree count.
    /// </summary>
    /// <param name="train">Training customers.</param>
    /// <param name="validation">Held-out customers for early stopping, read through the same schema.</param>
    /// <param name="grid">Interval end times, ascending and positive.</param>
    /// <param name="settings">LightGBM settings; <see cref="TreeSettings.MaxTrees"/> caps the tree count.</param>
    /// <param name="seed">Seed of the learner.</param>
    public static DiscreteHazardModel FitEarlyStopped(SurvivalData train, SurvivalData validation, IReadOnlyList<double> grid, TreeSettings settings, int seed)
    {
        var encoder = FeatureEncoder.Fit(train.Covariates);
        var learners = new Learners(seed, encoder.Width + 1);
        var options = learners.LightGbmOptions(settings, settings.MaxTrees, settings.EarlyStoppingRounds);
        options.ExampleWeightColumnName = nameof(PeriodRow.Weight);
        var ml = learners.Context;
        var model = ml.BinaryClassification.Trainers.LightGbm(options).Fit(View(ml, encoder, train, grid), View(ml, encoder, validation, grid));
        return new DiscreteHazardModel(ml, model, encoder, grid, Math.Max(1, model.Model.SubModel.TrainedTreeEnsemble.Trees.Count));
    }

    /// <summary>Fits the model on every customer of <paramref name="data"/> with a fixed tree count.</summary>
    public static DiscreteHazardModel Fit(SurvivalData data, IReadOnlyList<double> grid, TreeSettings settings, int seed, int trees)
    {
        var encoder = FeatureEncoder.Fit(data.Covariates);
        var learners = new Learners(seed, encoder.Width + 1);
        var options = learners.LightGbmOptions(settings, trees, 0);
        options.ExampleWeightColumnName = nameof(PeriodRow.Weight);
        var ml = learners.Context;
        var model = ml.BinaryClassification.Trainers.LightGbm(options).Fit(View(ml, encoder, data, grid));
        return new DiscreteHazardModel(ml, model, encoder, grid, trees);
    }

    private static IDataView View(MLContext ml, FeatureEncoder encoder, SurvivalData data, IReadOnlyList<double> grid)
    {
        var slots = encoder.EncodeAll(data.Covariates);
        var rows = PersonPeriods(data, slots, encoder.Width, grid).ToArray();
        return ml.Data.LoadFromEnumerable(rows, PeriodRow.Schema(encoder.Width + 1));
    }

    /// <summary>The survival curve of each row of a dataset read through the training schema, on <see cref="Grid"/>.</summary>
    public SurvivalCurves Predict(Dataset covariates)
    {
        var width = Encoder.Width;
        var slots = Encoder.EncodeAll(covariates);
        var n = covariates.RowCount;
        var rows = new PeriodRow[n * Grid.Count];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < Grid.Count; k++)
            {
                rows[i * Grid.Count + k] = PeriodRow.Of(slots.AsSpan(i * width, width), Grid[k], false, 1);
            }
        }
        var hazards = _model.Transform(_ml.Data.LoadFromEnumerable(rows, _schema)).GetColumn<float>("Probability").ToArray();
        var values = new double[n][];
        for (var i = 0; i < n; i++)
        {
            values[i] = new double[Grid.Count];
            var s = 1.0;
            for (var k = 0; k < Grid.Count; k++)
            {
                s *= 1 - hazards[i * Grid.Count + k];
                values[i][k] = s;
            }
        }
        return new SurvivalCurves(Grid, values);
    }

    /// <summary>The person-period rows of every customer (see the class remarks for how censoring enters).</summary>
    internal static IEnumerable<PeriodRow> PersonPeriods(SurvivalData data, float[] slots, int width, IReadOnlyList<double> grid)
    {
        for (var i = 0; i < data.RowCount; i++)
        {
            var t = data.Durations[i];
            var churned = data.Events[i];
            var covariates = slots.AsMemory(i * width, width);
            var start = 0.0;
            for (var k = 0; k < grid.Count; k++)
            {
                var end = grid[k];
                if (t > end)
                {
                    yield return PeriodRow.Of(covariates.Span, end, false, 1);
                }
                else if (churned)
                {
                    yield return PeriodRow.Of(covariates.Span, end, true, 1);
                    break;
                }
                else
                {
                    if (t > start)
                    {
                        yield return PeriodRow.Of(covariates.Span, end, false, (float)((t - start) / (end - start)));
                    }
                    break;
                }
                start = end;
            }
        }
    }
}

/// <summary>One person-period row fed to LightGBM: the encoded covariates followed by the interval's end time.</summary>
internal sealed class PeriodRow
{
    public float[] Features { get; set; } = [];
    public bool Label { get; set; }
    public float Weight { get; set; }

    public static PeriodRow Of(ReadOnlySpan<float> covariates, double time, bool churned, float weight)
    {
        var features = new float[covariates.Length + 1];
        covariates.CopyTo(features);
        features[^1] = (float)time;
        return new PeriodRow { Features = features, Label = churned, Weight = weight };
    }

    public static SchemaDefinition Schema(int width)
    {
        var schema = SchemaDefinition.Create(typeof(PeriodRow));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }
}
