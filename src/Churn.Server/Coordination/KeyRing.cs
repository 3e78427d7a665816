using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Churn.Server.Coordination;

/// <summary>
/// The dashboard's data-protection key ring, which encrypts sign-in cookies and antiforgery tokens and so must be the
/// same on every replica. Where it lives, decided once at start-up:
/// <list type="bullet">
/// <item>with <c>Churn:KeyRingCertificate</c>: in the store's <c>data_protection_keys</c> table (SQLite or PostgreSQL),
/// each key encrypted with the certificate, with Redis or without. The store is durable and backed up. Redis is kept
/// without persistence: when the ring was there, a restart emptied it, and a replica started after that made a key of
/// its own that the replicas already running did not know, so they turned away its cookies and forms;</item>
/// <item>without a certificate on SQLite (one node): in <c>&lt;data dir&gt;/keys/</c> as plain files, with a start-up
/// warning;</item>
/// <item>without a certificate on PostgreSQL: the server refuses to start (<see cref="KeyRingRequirement"/>), since
/// the ring would be shared by replicas as plain key material.</item>
/// </list>
/// </summary>
public static class KeyRing
{
    /// <summary>Registers the key ring as described on <see cref="KeyRing"/>.</summary>
    public static IHostApplicationBuilder AddKeyRing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<ServerOptions>, KeyRingRequirement>();
        // The key ring's EF repository takes the context from a scope; each scope gets a fresh one from the store factory.
        builder.Services.AddScoped<ChurnDbContext>(sp => sp.GetRequiredService<StoreFactory>().CreateDbContext());
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("churn");
        var certificate = builder.Configuration[$"{ServerOptions.Section}:{nameof(ServerOptions.KeyRingCertificate)}"];
        var encrypted = !string.IsNullOrWhiteSpace(certificate);
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IOptions<ServerOptions>, IServiceProvider, ILoggerFactory>(
            (o, server, services, logs) =>
            {
                if (encrypted)
                {
                    o.XmlRepository = new EntityFrameworkCoreXmlRepository<ChurnDbContext>(services, logs);
                }
                else
                {
                    // Only SQLite gets here (KeyRingRequirement refuses PostgreSQL): the files sit beside the store's
                    // own file, readable by the same people, and `churn serve` keeps working with no setting at all.
                    var folder = Path.Combine(server.Value.DataDir, "keys");
                    logs.CreateLogger(typeof(KeyRing)).LogWarning(
                        "The dashboard's key ring is kept unencrypted in {Folder}: set Churn:KeyRingCertificate to keep it encrypted in the store instead.", folder);
                    o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(folder), logs);
                }
            });
        // ASP.NET preloads the key ring in a hosted service that authentication registered before the store start-up,
        // so on a store not migrated yet it would read a table that does not exist and log an error. Hosted services
        // start in registration order: moved to the end, the preload runs once the store is migrated.
        // Before it, a shared ring gets its first key under a lock every replica takes (KeyRingBootstrap).
        builder.Services.AddHostedService<KeyRingBootstrap>();
        foreach (var preload in builder.Services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList())
        {
            builder.Services.Remove(preload);
            builder.Services.Add(preload);
        }
        if (encrypted)
        {
            dataProtection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(
                certificate!, builder.Configuration[$"{ServerOptions.Section}:{nameof(ServerOptions.KeyRingCertificatePassword)}"]));
        }
        return builder;
    }
}

/// <summary>
/// Refuses to start a server whose key ring would be shared as plain key material: on a PostgreSQL store the ring is
/// kept in the store, which replicas share and backups carry, so it needs <c>Churn:KeyRingCertificate</c>.
/// </summary>
internal sealed class KeyRingRequirement : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var store = StoreConfiguration.Load(options.DataDir).Store;
        // A PostgreSQL store with no connection string is reported by the store's own check, the more basic mistake.
        if (!string.IsNullOrWhiteSpace(options.KeyRingCertificate) || store.IsSqlite || string.IsNullOrWhiteSpace(store.ConnectionString))
        {
            return ValidateOptionsResult.Success;
        }
        return ValidateOptionsResult.Fail(
            "Churn:KeyRingCertificate is required when the store is PostgreSQL: the dashboard's key ring is kept in the shared store, " +
            "encrypted with that certificate (docs/operations.md shows how to make one).");
    }
}
