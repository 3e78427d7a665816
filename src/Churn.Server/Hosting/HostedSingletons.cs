namespace Churn.Server.Hosting;

/// <summary>Registering a background service that other services also use.</summary>
public static class HostedSingletons
{
    /// <summary>
    /// Registers <typeparamref name="T"/> as a singleton and runs that same instance as a hosted service. A hosted service
    /// registered alone cannot be injected; registered as both a singleton and <c>AddHostedService&lt;T&gt;()</c>, the host
    /// would run a second instance beside the one the others use.
    /// </summary>
    public static IServiceCollection AddHostedSingleton<T>(this IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
        return services;
    }
}
