using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
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

    public PredictionResponse Predict(ServingModel model, CustomerInput input, int reasons = DefaultReasons)
    {
        var started = Stopwatch.GetTimestamp();
        var result = model.Scorer.Score(input.Values, reasons);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var now = time.GetUtcNow();
        var response = new PredictionResponse(
            Guid.CreateVersion7(now),
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
        log.Append(new PredictionLogEntry
        {
            Id = response.PredictionId,
            Time = now,
            ModelName = model.Name,
            ModelVersion = model.Version,
            CustomerId = input.CustomerId,
            InputsJson = InputsJson(model.Schema, input),
            OutputsJson = JsonSerializer.Serialize(new LoggedOutput(result.Probability, result.WillChurn, result.RiskTier, result.UnseenCategories), JsonSerializerOptions.Web),
            Probability = result.Probability,
            LatencyMicroseconds = (long)elapsed.TotalMicroseconds,
        });
        metrics.Predicted(model.Name, model.Version, elapsed.TotalSeconds);
        shadow.Offer(model, input, response, now);
        return response;
    }

    private static string InputsJson(DatasetSchema schema, CustomerInput input)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
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
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed record LoggedOutput(double Probability, bool WillChurn, string RiskTier, IReadOnlyList<string> UnseenCategories);
}
