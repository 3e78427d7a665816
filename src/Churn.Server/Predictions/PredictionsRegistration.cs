using Microsoft.AspNetCore.Http.Features;

namespace Churn.Server.Predictions;

/// <summary>Scoring, the prediction buffer and its way to the store, and shadow scoring.</summary>
public static class PredictionsRegistration
{
    public static IHostApplicationBuilder AddPredictions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PredictionSpill>();
        builder.Services.AddSingleton<PredictionJournal>();
        builder.Services.AddSingleton<PredictionBuffer>();
        builder.Services.AddSingleton<Predictor>();
        builder.Services.AddSingleton<BatchGate>();
        builder.Services.AddSingleton<ShadowQueue>();
        builder.Services.AddHostedService<ShadowScoringJob>();
        builder.Services.AddSingleton(sp => new PredictionLogTarget(sp.GetRequiredService<StoreFactory>()));
        builder.Services.AddHostedService<PredictionFlushJob>();
        builder.Services.AddHostedService<OrphanedJournals>();
        return builder;
    }

    /// <summary>
    /// Under a group commit (<see cref="JournalFlush.GroupCommit"/>), holds each response until the journal lines of the
    /// predictions it answers are on disk: the wait happens as the response starts, after the handler has scored, so one
    /// fsync covers every request of the last couple of milliseconds. Any endpoint that predicts is covered. Under light
    /// load the waiting request runs that fsync itself (<see cref="PredictionJournal.WaitDurableAsync"/>). Lines appended
    /// after the response started, by a request that ended without one, or over an upgraded connection (the dashboard's
    /// WebSocket) are synced by the journal's committer instead.
    /// </summary>
    public static IApplicationBuilder UseDurablePredictions(this IApplicationBuilder app)
    {
        var journal = app.ApplicationServices.GetRequiredService<PredictionJournal>();
        if (journal.Flush != JournalFlush.GroupCommit)
        {
            return app;
        }
        return app.Use(async (context, next) =>
        {
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true })
            {
                // A connection that lives on (the dashboard's circuit over a WebSocket): its lines are synced by the committer.
                await next(context);
                return;
            }
            var coverage = PredictionJournal.Cover();
            context.Response.OnStarting(() => journal.WaitCoveredAsync(coverage));
            try
            {
                await next(context);
            }
            finally
            {
                // A response that never started (an aborted request), or lines appended after it started: the committer syncs them.
                journal.Release(coverage);
            }
        });
    }
}
