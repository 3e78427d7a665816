namespace Churn.Server.Retraining;

public static class RetrainingRegistration
{
    /// <summary>The retraining queue, the job that runs it and the schedule (the lock and <c>Retrainer</c> come with the store).</summary>
    public static IHostApplicationBuilder AddRetraining(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RetrainQueue>();
        builder.Services.AddHostedService<RetrainJob>();
        builder.Services.AddHostedService<RetrainScheduleJob>();
        return builder;
    }
}
