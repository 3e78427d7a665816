namespace Churn.Server.Predictions;

/// <summary>Scoring, the prediction buffer and its way to the store, and shadow scoring.</summary>
public static class PredictionRegistration
{
    public static IHostApplicationBuilder AddPredictions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PredictionSpill>();
        builder.Services.AddSingleton<PredictionJournal>();
        builder.Services.AddSingleton<PredictionBuffer>();
        builder.Services.AddSingleton<Predictor>();
        builder.Services.AddSingleton<ShadowQueue>();
        builder.Services.AddHostedService<ShadowScoringJob>();
        builder.Services.AddSingleton(sp => new PredictionLogTarget(sp.GetRequiredService<StoreFactory>()));
        builder.Services.AddHostedService<PredictionFlushJob>();
        return builder;
    }
}
