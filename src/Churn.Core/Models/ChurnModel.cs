using System.IO.Compression;
using System.Text.Json;
using Churn.Core.Evaluation;
using Churn.Core.Features;
using Churn.Core.Scoring;
using Churn.Core.Training;
using Microsoft.ML;

namespace Churn.Core.Models;

/// <summary>A package file that is not a complete, readable model.</summary>
public sealed class ModelPackageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A trained churn model: the feature encoder, the tree and/or linear ML.NET models and their blend
/// weight, the fitted calibration and the card. Immutable once built; scoring goes through
/// <see cref="ChurnScorer"/> (single rows) or <see cref="ScoreMatrix"/> (bulk).
/// </summary>
public sealed class ChurnModel
{
    /// <summary>
    /// The card's name: its entry in every model package (classifier and survival) and its file beside an exported
    /// package or among a mirrored version's artifacts.
    /// </summary>
    public const string CardFileName = "card.json";

    private const string EncoderEntry = "encoder.json";
    private const string TreesEntry = "trees.mlnet";
    private const string LinearEntry = "linear.mlnet";
    private const string BlendEntry = "blend.json";
    private const string CoversEntry = "covers.json";

    internal ChurnModel(MLContext ml, FeatureEncoder encoder, ITransformer? trees, ITransformer? linear, double treeWeight, int seed, CalibrationModel calibration, TreeCovers? covers = null)
    {
        Covers = covers;
        Ml = ml;
        Encoder = encoder;
        Trees = trees;
        Linear = linear;
        TreeWeight = treeWeight;
        Seed = seed;
        Calibration = calibration;
    }

    internal MLContext Ml { get; }

    /// <summary>
    /// The models read out for direct evaluation, or null when their shape is not one that compiles (see
    /// <see cref="Scoring.CompiledModel"/>); compiled on first use once the card (whose reference profile feeds the
    /// self-check) is known, unless <see cref="Compile"/> came first.
    /// </summary>
    internal Scoring.CompiledModel? Compiled => Volatile.Read(ref _compiledDone) || _card is null ? _compiled : Compile(Card.Schema, Card.Reference);

    /// <summary>
    /// Compiles the model once, self-checked against the engines on rows drawn from <paramref name="reference"/> (see
    /// <see cref="Scoring.CompiledModel.CheckRows"/>); every later call, and <see cref="Compiled"/>, returns that result.
    /// Training calls it before the card exists, with the profile the card will hold.
    /// </summary>
    internal Scoring.CompiledModel? Compile(DatasetSchema schema, IReadOnlyList<FeatureProfile> reference)
    {
        if (Volatile.Read(ref _compiledDone))
        {
            return _compiled;
        }
        lock (_compileGate)
        {
            if (!_compiledDone)
            {
                _compiled = Scoring.CompiledModel.TryCompile(this, Scoring.CompiledModel.CheckRows(this, schema, reference, 256, Seed), out var whyNot);
                CompileFailure = whyNot;
                Volatile.Write(ref _compiledDone, true);
            }
        }
        return _compiled;
    }

    /// <summary>How many training rows reached each tree node (null without trees): the weights of TreeSHAP's expectations.</summary>
    internal TreeCovers? Covers { get; }

    /// <summary>Why <see cref="Compiled"/> is null, once it has been tried.</summary>
    internal string? CompileFailure { get; private set; }

    private readonly Lock _compileGate = new();
    private Scoring.CompiledModel? _compiled;
    private bool _compiledDone;
    public FeatureEncoder Encoder { get; }
    internal ITransformer? Trees { get; }
    internal ITransformer? Linear { get; }

    /// <summary>Weight of the tree model in the probability blend (1 = trees only, 0 = linear only).</summary>
    public double TreeWeight { get; }
    public int Seed { get; }
    public CalibrationModel Calibration { get; }

    /// <summary>The card; set once when training completes or the package is loaded.</summary>
    public ModelCard Card => _card ?? throw new InvalidOperationException("The model has no card yet.");

    private ModelCard? _card;

    internal ChurnModel WithCard(ModelCard card)
    {
        _card = card;
        return this;
    }

    /// <summary>Records a cross-validation of the recipe that produced this model in its card.</summary>
    public ChurnModel WithCrossValidation(CrossValidationSummary summary) => WithCard(Card with { CrossValidation = summary });

    /// <summary>
    /// The uncalibrated score the calibrator maps: the blend of the two models in log-odds,
    /// <c>w·logit(p_trees) + (1 − w)·logit(p_linear)</c>. A blend in log-odds is additive in each model's own score, so
    /// each model's exact contributions add up to the blend's (ADR 0004). Engine probabilities are clamped to
    /// [1e-7, 1 − 1e-7] first, as they are single-precision.
    /// </summary>
    public static double RawScore(double treeProbability, double linearProbability, double treeWeight)
    {
        var raw = 0.0;
        if (treeWeight > 0)
        {
            raw += treeWeight * Logit(treeProbability);
        }
        if (treeWeight < 1)
        {
            raw += (1 - treeWeight) * Logit(linearProbability);
        }
        return raw;
    }

    private static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-7, 1 - 1e-7);
        return Math.Log(p / (1 - p));
    }

    /// <summary>True when every prediction of this model comes with exact contributions (see <see cref="Explain"/>).</summary>
    public bool CanExplain => Compiled is { CanExplain: true };

    /// <summary>The unit of contributions and base value (<see cref="Scoring.ContributionUnits"/>), or null when <see cref="CanExplain"/> is false.</summary>
    public string? ContributionUnit => Compiled is { CanExplain: true } c ? c.Unit : null;

    /// <summary>The expected log-odds over the training rows in <see cref="ContributionUnit"/>, or null when <see cref="CanExplain"/> is false.</summary>
    public double? BaseValue => Compiled is { CanExplain: true } c ? c.BaseValue : null;

    /// <summary>
    /// Exact SHAP values of one encoded row, one per schema feature in schema order, in <see cref="ContributionUnit"/>:
    /// <see cref="BaseValue"/> plus their sum is the row's log-odds. Returns false, leaving
    /// <paramref name="contributions"/> cleared, when the model cannot explain (see <see cref="CanExplain"/>) or the
    /// row holds a value beyond float range.
    /// </summary>
    /// <exception cref="ArgumentException">A span is not as long as the encoder's width or feature count.</exception>
    public bool Explain(ReadOnlySpan<float> slots, Span<double> contributions)
    {
        if (slots.Length != Encoder.Width || contributions.Length != Encoder.Features.Count)
        {
            throw new ArgumentException($"Explaining needs {Encoder.Width} slots and room for {Encoder.Features.Count} contributions.");
        }
        contributions.Clear();
        if (Compiled is not { CanExplain: true } compiled || !compiled.Accepts(slots))
        {
            return false;
        }
        Span<double> scratch = contributions.Length <= 256 ? stackalloc double[contributions.Length] : new double[contributions.Length];
        compiled.Explain(slots, contributions, scratch);
        return true;
    }

    /// <summary>
    /// Raw scores (see <see cref="RawScore(double, double, double)"/>) of an encoded row-major matrix of
    /// <paramref name="rows"/> rows of <see cref="FeatureEncoder.Width"/> slots, through ML.NET's engines: the reference
    /// every compiled evaluation is checked against.
    /// </summary>
    public double[] EngineRawScores(float[] matrix, int rows)
    {
        var learners = new Learners(Seed, Encoder.Width);
        var labels = new bool[rows];
        var all = Enumerable.Range(0, rows).ToArray();
        var view = learners.View(matrix, labels, all);
        var tree = Trees is null ? null : Learners.Probabilities(Trees, view);
        var linear = Linear is null ? null : Learners.Probabilities(Linear, view);
        var scores = new double[rows];
        for (var i = 0; i < rows; i++)
        {
            scores[i] = RawScore(tree?[i] ?? 0, linear?[i] ?? 0, TreeWeight);
        }
        return scores;
    }

    /// <summary>
    /// Raw scores of an encoded row-major matrix: <paramref name="compiled"/> evaluates each row it accepts, and the rows
    /// it does not (or all, when it is null) go through the engines in one bulk pass (<see cref="EngineRawScores"/>).
    /// </summary>
    internal double[] RawScores(float[] matrix, int rows, Scoring.CompiledModel? compiled)
    {
        var width = Encoder.Width;
        var raw = new double[rows];
        var viaEngines = new List<int>();
        for (var i = 0; i < rows; i++)
        {
            var slots = matrix.AsSpan(i * width, width);
            if (compiled is not null && compiled.Accepts(slots))
            {
                raw[i] = compiled.RawScore(slots);
            }
            else
            {
                viaEngines.Add(i);
            }
        }
        if (viaEngines.Count > 0)
        {
            var subset = viaEngines.Count == rows ? matrix : new float[viaEngines.Count * width];
            if (viaEngines.Count != rows)
            {
                for (var k = 0; k < viaEngines.Count; k++)
                {
                    matrix.AsSpan(viaEngines[k] * width, width).CopyTo(subset.AsSpan(k * width, width));
                }
            }
            var scores = EngineRawScores(subset, viaEngines.Count);
            for (var k = 0; k < viaEngines.Count; k++)
            {
                raw[viaEngines[k]] = scores[k];
            }
        }
        return raw;
    }

    /// <summary>Calibrated churn probabilities for an encoded matrix.</summary>
    public double[] ScoreMatrix(float[] matrix, int rows)
    {
        var raw = RawScores(matrix, rows, Compiled);
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = Calibration.Apply(raw[i]);
        }
        return raw;
    }

    /// <summary>Calibrated probabilities for every row of a dataset.</summary>
    public double[] Score(Dataset data) => ScoreMatrix(Encoder.EncodeAll(data), data.RowCount);

    /// <summary>Writes the package (one zip file) to <paramref name="path"/> via a temporary file and an atomic rename.</summary>
    public void Save(string path) => WritePackage(path, zip =>
    {
        WriteJson(zip, CardFileName, Card);
        WriteJson(zip, EncoderEntry, Encoder);
        WriteJson(zip, BlendEntry, new BlendSettings(TreeWeight));
        if (Covers is not null)
        {
            WriteJson(zip, CoversEntry, Covers);
        }
        var schema = new Learners(Seed, Encoder.Width).View([], [], []).Schema;
        if (Trees is not null)
        {
            using var s = zip.CreateEntry(TreesEntry, CompressionLevel.Fastest).Open();
            Ml.Model.Save(Trees, schema, s);
        }
        if (Linear is not null)
        {
            using var s = zip.CreateEntry(LinearEntry, CompressionLevel.Fastest).Open();
            Ml.Model.Save(Linear, schema, s);
        }
    });

    /// <summary>Writes a zip package to <paramref name="path"/> via a temporary file and an atomic rename.</summary>
    internal static void WritePackage(string path, Action<ZipArchive> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + $".{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                using (var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
                {
                    write(zip);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Reads only the card of a package (cheap: no ML models are loaded).</summary>
    public static ModelCard ReadCard(string path)
    {
        using var zip = OpenZip(path);
        return ReadJson<ModelCard>(zip, CardFileName, path);
    }

    /// <summary>Loads a package; a missing, truncated or foreign file is refused with a clear message.</summary>
    public static ChurnModel Load(string path)
    {
        using var zip = OpenZip(path);
        var card = ReadJson<ModelCard>(zip, CardFileName, path);
        if (card.Format != ModelCard.CurrentFormat)
        {
            throw new ModelPackageException(card.Format < ModelCard.CurrentFormat
                ? $"{path}: package format {card.Format} predates format {ModelCard.CurrentFormat} (models blended in log-odds, with the covers exact reasons need); retrain it with this version."
                : $"{path}: package format {card.Format} is not supported (expected {ModelCard.CurrentFormat}).");
        }
        var encoder = ReadJson<FeatureEncoder>(zip, EncoderEntry, path);
        var blend = ReadJson<BlendSettings>(zip, BlendEntry, path);
        var ml = new MLContext(card.Seed);
        var trees = LoadTransformer(ml, zip, TreesEntry, path);
        var linear = LoadTransformer(ml, zip, LinearEntry, path);
        if (trees is null && linear is null)
        {
            throw new ModelPackageException($"{path}: the package holds no model.");
        }
        // A tree model ML.NET shapes in a way the compiled path does not read has no covers; it scores without contributions.
        var covers = trees is null || zip.GetEntry(CoversEntry) is null ? null : ReadJson<TreeCovers>(zip, CoversEntry, path);
        return new ChurnModel(ml, encoder, trees, linear, blend.TreeWeight, card.Seed, card.Calibration, covers).WithCard(card);
    }

    internal static ZipArchive OpenZip(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelPackageException($"Model package '{path}' does not exist.");
        }
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelPackageException($"{path}: not a model package (the archive is corrupt or truncated).", ex);
        }
    }

    internal static ITransformer? LoadTransformer(MLContext ml, ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name);
        if (entry is null)
        {
            return null;
        }
        try
        {
            // ML.NET needs a seekable stream; the entry is copied to memory first.
            using var buffer = new MemoryStream();
            using (var s = entry.Open())
            {
                s.CopyTo(buffer);
            }
            buffer.Position = 0;
            return ml.Model.Load(buffer, out _);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or InvalidOperationException or IOException)
        {
            throw new ModelPackageException($"{path}: the model entry '{name}' cannot be read ({ex.Message}).", ex);
        }
    }

    internal static void WriteJson<T>(ZipArchive zip, string name, T value)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        JsonSerializer.Serialize(s, value, JsonDefaults.Options);
    }

    internal static T ReadJson<T>(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new ModelPackageException($"{path}: not a model package (no '{name}').");
        try
        {
            using var s = entry.Open();
            return JsonSerializer.Deserialize<T>(s, JsonDefaults.Options) ?? throw new ModelPackageException($"{path}: '{name}' is empty.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
        {
            throw new ModelPackageException($"{path}: '{name}' is damaged ({ex.Message}).", ex);
        }
    }

    private sealed record BlendSettings(double TreeWeight);
}

/// <summary>The JSON settings of every persisted Core document (camelCase, enums as strings).</summary>
public static class JsonDefaults
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true };
}
