namespace Churn.Server.Models;

/// <summary>
/// The last start-up step: makes sure an admin API key exists (the configured <c>CHURN_ADMIN_KEY</c>, else one generated
/// and noted for the banner to show once).
/// </summary>
public sealed class AdminKeyStartup(ApiKeyStore keys, StartupNotes notes, IOptions<ServerOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken) =>
        notes.GeneratedAdminKey = await keys.EnsureAdminAsync(options.Value.AdminKey, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
