using System.Buffers;
using System.Diagnostics;
using System.Text;
using Churn.Core.Schema;
using Churn.Core.Scoring;
using Churn.Data.Predictions;
using Churn.Server.Models;
using Churn.Server.Telemetry;

namespace Churn.Server.Predictions;

/// <summary>
/// Scores validated customers with a model snapshot, then logs and counts each prediction. Every protocol
/// (/predict, /invocations, /v2 infer, file jobs excepted) goes through here, so they return the same probabilities.
/// </summary>
public sealed class Predictor(PredictionBuffer log, ShadowQueue shadow, ServerMetrics metrics, TimeProvider time)
{
    public const int DefaultReasons = 5;

    /// <summary>The number of reasons that means every feature (<c>?explain=all</c>).</summary>
    public const int AllReasons = ChurnScorer.AllReasons;

    /// <summary>
    /// Scores <paramref name="input"/> with <paramref name="model"/> and explains it with up to <paramref name="reasons"/>
    /// SHAP reasons; logs, counts and shadow-scores the prediction unless <paramref name="record"/> is false (the server's
    /// own warm-up, <see cref="Health.RequestWarmUp"/>, whose entries take the log's way as a
    /// <see cref="PredictionLogEntry.Rehearsal"/> and are never stored).
    /// </summary>
    public PredictionResponse Predict(ServingModel model, CustomerInput input, int reasons = DefaultReasons, bool record = true) =>
        Predict(model, [input], reasons, record)[0];

    /// <summary>
    /// Rows from which a request's customers are scored on all cores at once: below it, handing rows to other threads
    /// costs more than it saves.
    /// </summary>
    public const int ParallelFrom = 32;

    private static readonly ParallelOptions AllCores = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>
    /// Scores the customers of one request as <see cref="Predict(ServingModel, CustomerInput, int, bool)"/> does each,
    /// in their order (on all cores from <see cref="ParallelFrom"/> customers), and logs their entries together.
    /// </summary>
    public PredictionResponse[] Predict(ServingModel model, IReadOnlyList<CustomerInput> inputs, int reasons = DefaultReasons, bool record = true)
    {
        var now = time.GetUtcNow();
        var responses = new PredictionResponse[inputs.Count];
        var entries = new PredictionLogEntry[inputs.Count];
        if (inputs.Count >= ParallelFrom)
        {
            Parallel.For(0, inputs.Count, AllCores, i => (responses[i], entries[i]) = Score(model, inputs[i], reasons, now, record));
        }
        else
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                (responses[i], entries[i]) = Score(model, inputs[i], reasons, now, record);
            }
        }
        // Rehearsals take the log's whole way too (never stored), so that code is warm; they are not counted or shadowed.
        log.Append(entries);
        if (record)
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                metrics.Predicted(model.Name, model.Version, entries[i].LatencyMicroseconds / 1e6);
                shadow.Offer(model, inputs[i], responses[i], now);
            }
        }
        return responses;
    }

    private static (PredictionResponse Response, PredictionLogEntry Entry) Score(ServingModel model, CustomerInput input, int reasons, DateTimeOffset now, bool record)
    {
        var started = Stopwatch.GetTimestamp();
        var result = model.Scorer.Score(input.Values, reasons);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var response = new PredictionResponse(
            PredictionIds.Next(now),
            input.CustomerId,
            result.Probability,
            result.WillChurn,
            model.Scorer.Threshold,
            result.RiskTier,
            [.. result.Reasons.Select(r => new ReasonResponse(r.Feature, r.Value, r.Contribution))],
            result.UnseenCategories,
            input.CustomerValue is { } value ? Math.Round(result.Probability * value, 2) : null,
            model.Name,
            model.Version,
            result.BaseValue,
            result.ContributionUnit);
        var entry = new PredictionLogEntry
        {
            Id = response.PredictionId,
            Time = now,
            ModelName = model.Name,
            ModelVersion = model.Version,
            CustomerId = input.CustomerId,
            InputsJson = InputsJson(model.Schema, input),
            OutputsJson = OutputsJson(result),
            Probability = result.Probability,
            LatencyMicroseconds = (long)elapsed.TotalMicroseconds,
            Rehearsal = !record,
        };
        return (response, entry);
    }

    // One writer and buffer per thread, reset for each entry: the log's two JSON texts cost no allocation beyond the strings.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? writer;

    private static Utf8JsonWriter Writer()
    {
        buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer);
        }
        else
        {
            writer.Reset(buffer);
        }
        return writer;
    }

    private static string Written(Utf8JsonWriter json)
    {
        json.Flush();
        return Encoding.UTF8.GetString(buffer!.WrittenSpan);
    }

    private static string InputsJson(DatasetSchema schema, CustomerInput input)
    {
        var writer = Writer();
        writer.WriteStartObject();
        for (var f = 0; f < schema.Features.Count; f++)
        {
            var value = input.Values[f];
            writer.WritePropertyName(schema.Features[f].Name);
            if (value.IsMissing)
            {
                writer.WriteNullValue();
            }
            else if (value.IsText)
            {
                writer.WriteStringValue(value.Text);
            }
            else
            {
                writer.WriteNumberValue(value.Number);
            }
        }
        if (input.CustomerValue is { } customerValue)
        {
            writer.WriteNumber("$customerValue", customerValue);
        }
        writer.WriteEndObject();
        return Written(writer);
    }

    /// <summary>The logged outputs: <c>{"probability", "willChurn", "riskTier", "unseenCategories"}</c>.</summary>
    private static string OutputsJson(ScoreResult result)
    {
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteNumber("probability"u8, result.Probability);
        writer.WriteBoolean("willChurn"u8, result.WillChurn);
        writer.WriteString("riskTier"u8, result.RiskTier);
        writer.WriteStartArray("unseenCategories"u8);
        foreach (var name in result.UnseenCategories)
        {
            writer.WriteStringValue(name);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        return Written(writer);
    }
}
