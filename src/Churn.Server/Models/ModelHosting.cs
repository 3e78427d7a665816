using Churn.Server.Health;

namespace Churn.Server.Models;

public static class ModelHosting
{
    /// <summary>
    /// The serving model and its start-up, in order: the store is brought up to date, a champion is trained when there
    /// is none and warmed, an admin key is made sure of; then the champion alias is followed while the server runs, and the
    /// request path is warmed up once Kestrel listens.
    /// </summary>
    public static IHostApplicationBuilder AddModelHosting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddSingleton<ModelLoader>();
        builder.Services.AddSingleton<SampleTrainer>();
        builder.Services.AddSingleton<ChampionMoves>();
        builder.Services.AddSingleton<StartupNotes>();
        // Hosted services start in registration order, each finishing before the next.
        builder.Services.AddHostedService<StoreStartup>();
        builder.Services.AddHostedService<ChampionStartup>();
        builder.Services.AddHostedService<AdminKeyStartup>();
        builder.Services.AddHostedService<ChampionWatchJob>();
        // Last: it waits for Kestrel to listen, then warms the request path before readiness is reported.
        builder.Services.AddHostedSingleton<RequestWarmUp>();
        return builder;
    }
}
