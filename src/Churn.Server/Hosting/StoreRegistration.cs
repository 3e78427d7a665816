using Churn.Data.Mlflow;
using Churn.Data.Registry;
using Churn.Data.Retraining;
using Churn.Data.Settings;
using Churn.Data.Tracking;

namespace Churn.Server.Hosting;

public static class StoreRegistration
{
    /// <summary>
    /// Registers the store over the configured data directory, and the application's changes over it (the same classes
    /// <see cref="ChurnStore"/> composes for the command line): the audit log, audited registry changes, API keys, the
    /// training lock and retraining. The directory is resolved when first needed, so test hosts can set it through
    /// configuration after registration.
    /// </summary>
    public static IHostApplicationBuilder AddStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<ServerOptions>, ServerOptionsDefaults>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => StoreConfiguration.Load(sp.GetRequiredService<IOptions<ServerOptions>>().Value.DataDir));
        builder.Services.AddSingleton(sp => new StoreFactory(
            sp.GetRequiredService<StoreConfiguration>().Store,
            sp.GetRequiredService<IOptions<ServerOptions>>().Value.DataDir));
        builder.Services.AddSingleton<IDbContextFactory<ChurnDbContext>>(sp => sp.GetRequiredService<StoreFactory>());
        builder.Services.AddSingleton(sp => new MlflowOutbox(sp.GetRequiredService<StoreConfiguration>().Mlflow));
        builder.Services.AddSingleton(sp => new RunTracker(
            sp.GetRequiredService<StoreFactory>(), sp.GetRequiredService<MlflowOutbox>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new ModelRegistry(
            sp.GetRequiredService<StoreFactory>(),
            sp.GetRequiredService<MlflowOutbox>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<ModelRegistry>>()));
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<ModelChanges>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<StoreLock>();
        builder.Services.AddSingleton(sp => new TrainingLock(sp.GetRequiredService<StoreLock>(), sp.GetService<ILogger<TrainingLock>>()));
        builder.Services.AddSingleton<Retrainer>();
        return builder;
    }
}
