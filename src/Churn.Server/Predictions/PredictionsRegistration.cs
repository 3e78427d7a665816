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
    /// fsync covers every request of the last couple of milliseconds. Any endpoint that predicts is covered.
    /// </summary>
    public static IApplicationBuilder UseDurablePredictions(this IApplicationBuilder app)
    {
        var journal = app.ApplicationServices.GetRequiredService<PredictionJournal>();
        if (journal.Flush != JournalFlush.GroupCommit)
        {
            return app;
        }
        return app.Use((context, next) =>
        {
            var covered = PredictionJournal.Cover();
            context.Response.OnStarting(() => covered.Value == 0 ? Task.CompletedTask : journal.WaitDurableAsync(covered.Value));
            return next(context);
        });
    }
}
