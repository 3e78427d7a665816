using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Churn.Data.Monitoring;

namespace Churn.Server.Monitoring;

/// <summary>The conditions monitoring alerts on, as stored in <see cref="Alert.Kind"/>.</summary>
public static class AlertKinds
{
    public const string Drift = "drift";
    public const string Performance = "performance";
    public const string ErrorRate = "error_rate";
    public const string Latency = "latency";
    public const string DataQuality = "data_quality";

    /// <summary>The domain classifier tells the window from the reference data: the features changed jointly, whatever each did alone.</summary>
    public const string MultivariateDrift = "drift_multivariate";

    /// <summary>Observed churn over labelled predictions strays from the expected (sum of probabilities) beyond <c>monitoring.calibration_tolerance</c>.</summary>
    public const string Calibration = "calibration";

    /// <summary>
    /// The kind of an alert about one segment (<c>drift:contract=Month-to-month</c>), so each segment cools down on its
    /// own. A key too long for the kind column is shortened and keeps a hash of the whole, so distinct segments stay distinct.
    /// </summary>
    public static string ForSegment(string kind, string segment)
    {
        var full = $"{kind}:{segment}";
        if (full.Length <= MaxLength)
        {
            return full;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(segment)))[..8];
        return $"{full[..(MaxLength - 9)]}~{hash}";
    }

    /// <summary>The longest kind the store keeps (the <c>alerts.kind</c> column).</summary>
    public const int MaxLength = 64;

    /// <summary>The MLflow server cannot take model files (no artifact proxy, or an artifact root it does not serve).</summary>
    public const string Mlflow = "mlflow";

    /// <summary>A campaign whose treated customers churn more than its holdout; one kind per campaign, so each cools down on its own.</summary>
    public static string CampaignHarm(Guid campaignId) => $"campaign_harm:{campaignId}";
}

/// <summary>
/// Raises alerts to the store, the log and the webhook, with a cool-down: while an alert of one kind is open
/// (not acknowledged) and younger than <c>monitoring.alert_cooldown</c>, the same condition does not alert again.
/// REVIEW: two replicas checking at the same instant could both raise; checks are minutes apart, so this is accepted.
/// </summary>
public sealed class AlertRaiser(StoreFactory store, AlertWebhook webhook, RuntimeSettings settings, TimeProvider time, ILogger<AlertRaiser> log)
{
    /// <summary>Stores and publishes the alert; null when an open alert of the same kind is still cooling down.</summary>
    public async Task<AlertResponse?> RaiseAsync(string kind, string severity, string message, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var since = now - settings.Monitoring.AlertCooldown;
        await using var db = store.CreateDbContext();
        if (await db.Alerts.AnyAsync(a => a.Kind == kind && a.AcknowledgedAt == null && a.RaisedAt > since, ct))
        {
            log.LogDebug("Alert {Kind} is cooling down; not raised again: {Message}", kind, message);
            return null;
        }
        var alert = new Alert { Id = Guid.CreateVersion7(now), Kind = kind, Severity = severity, Message = message, RaisedAt = now };
        db.Alerts.Add(alert);
        await db.SaveChangesAsync(ct);
        log.LogWarning("Alert {Kind} ({Severity}): {Message}", kind, severity, message);
        var response = alert.AsResponse();
        webhook.Enqueue(response);
        return response;
    }
}

/// <summary>Where alerts are posted. Bound from "Churn:Monitoring"; the secret belongs in the environment (<c>Churn__Monitoring__webhook_secret</c>).</summary>
public sealed class WebhookOptions : IValidatableObject
{
    [ConfigurationKeyName("webhook_url")]
    public string? Url { get; set; }

    [ConfigurationKeyName("webhook_secret")]
    public string? Secret { get; set; }

    /// <summary>Delivery attempts per alert before it is given up (and logged).</summary>
    [ConfigurationKeyName("webhook_attempts"), Range(1, 20)]
    public int Attempts { get; set; } = 5;

    /// <summary>Wait before the first retry; each further retry waits twice as long.</summary>
    [ConfigurationKeyName("webhook_backoff"), Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(Url))
        {
            yield break;
        }
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult("webhook_url must be an absolute http or https URL.", [nameof(Url)]);
        }
        if (string.IsNullOrEmpty(Secret) || Secret.Length < 16)
        {
            yield return new ValidationResult("webhook_secret of at least 16 characters is required with webhook_url.", [nameof(Secret)]);
        }
    }
}

/// <summary>
/// Posts alerts as JSON to the configured webhook off the monitoring path, signed with
/// <c>X-Churn-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>, retrying with exponential back-off.
/// </summary>
public sealed class AlertWebhook(IOptions<WebhookOptions> options, IHttpClientFactory clients, TimeProvider time, ILogger<AlertWebhook> log) : BackgroundService
{
    public const string SignatureHeader = "X-Churn-Signature";

    private readonly Channel<AlertResponse> pending = Channel.CreateBounded<AlertResponse>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });

    public void Enqueue(AlertResponse alert)
    {
        if (!string.IsNullOrEmpty(options.Value.Url))
        {
            pending.Writer.TryWrite(alert);
        }
    }

    /// <summary>The signature header value for a body: <c>sha256=</c> and the lower-case hex HMAC.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var alert in pending.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await DeliverAsync(alert, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogError(ex, "Could not deliver alert {Alert} to the webhook.", alert.Id);
            }
        }
    }

    private async Task DeliverAsync(AlertResponse alert, CancellationToken ct)
    {
        var o = options.Value;
        var body = JsonSerializer.SerializeToUtf8Bytes(new { type = "churn.alert", alert }, JsonSerializerOptions.Web);
        var signature = Sign(o.Secret!, body);
        using var client = clients.CreateClient(nameof(AlertWebhook));
        client.Timeout = TimeSpan.FromSeconds(10);
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, o.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add(SignatureHeader, signature);
                using var response = await client.SendAsync(request, ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
                problem = $"status {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                problem = ex.Message;
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                problem = "timed out";
            }
            if (attempt >= o.Attempts)
            {
                log.LogError("Gave up delivering alert {Alert} to the webhook after {Attempts} attempts: {Problem}", alert.Id, attempt, problem);
                return;
            }
            log.LogWarning("Webhook delivery of alert {Alert} failed ({Problem}); retry {Attempt} of {Attempts}.", alert.Id, problem, attempt, o.Attempts - 1);
            await Task.Delay(o.Backoff * Math.Pow(2, attempt - 1), time, ct);
        }
    }
}
