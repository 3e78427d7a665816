using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Churn.Data.Security;

/// <summary>
/// API keys: secrets are random, shown once and stored only as SHA-256 hashes (a fast hash is enough for 256-bit random
/// secrets, which cannot be guessed, and keeps per-request checks cheap). Valid keys are cached briefly per process.
/// Creating and revoking a key are audited here, for the API, the dashboard and <c>churn keys</c> alike.
/// </summary>
public sealed class ApiKeyStore(StoreFactory store, AuditLog audit, TimeProvider time)
{
    // REVIEW: without Redis, a key revoked on another replica stays usable here until the cache entry expires; with it,
    // the revocation is announced and every replica forgets the key at once.
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    /// <summary>How long after its cache entry expired a key is still accepted while the store cannot be asked.</summary>
    private static readonly TimeSpan StaleFor = TimeSpan.FromMinutes(15);
    private readonly ConcurrentDictionary<string, (KeyIdentity Key, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    public const string AdminKeyName = "admin";

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string NewSecret() => "churn_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .Replace('+', '-').Replace('/', '_').TrimEnd('=');

    /// <summary>The identity of a presented secret, or null when it is unknown or revoked.</summary>
    public async ValueTask<KeyIdentity?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = Hash(secret);
        var now = time.GetUtcNow();
        if (cache.TryGetValue(hash, out var hit) && hit.Until > now)
        {
            return hit.Key;
        }
        KeyIdentity? row;
        try
        {
            await using var db = store.CreateDbContext();
            row = await db.ApiKeys.AsNoTracking().Where(k => k.Hash == hash && k.RevokedAt == null)
                .Select(k => new KeyIdentity(k.Id, k.Name, k.Role)).SingleOrDefaultAsync(cancellationToken);
        }
        catch (Exception ex) when (hit.Key is not null && now - hit.Until < StaleFor && StoreOutage.Is(ex))
        {
            // The store is away: a key that was valid a short while ago stays valid, so predictions go on through an outage.
            return hit.Key;
        }
        if (row is null)
        {
            cache.TryRemove(hash, out _);
            return null;
        }
        cache[hash] = (row, now + CacheFor);
        return row;
    }

    /// <summary>
    /// Creates a key named <paramref name="name"/> with <paramref name="role"/> and audits it as done by <paramref name="by"/>;
    /// null when a key of that name exists (also when another request took the name at the same moment).
    /// </summary>
    public async Task<CreatedKey?> CreateAsync(string name, string role, AuditActor by, CancellationToken cancellationToken)
    {
        if (await NameExistsAsync(name, cancellationToken))
        {
            return null;
        }
        CreatedKey created;
        try
        {
            created = await CreateAsync(name, role, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two requests for the same name at once: the unique index lets one win.
            return null;
        }
        await audit.RecordAsync(by, "key.create", created.Id.ToString(), new { created.Name, created.Role });
        return created;
    }

    private async Task<CreatedKey> CreateAsync(string name, string role, CancellationToken cancellationToken, string? secret = null)
    {
        secret ??= NewSecret();
        var row = new ApiKey { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = name, Role = role, Hash = Hash(secret), CreatedAt = time.GetUtcNow() };
        await using var db = store.CreateDbContext();
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedKey(row.Id, row.Name, row.Role, secret, row.CreatedAt);
    }

    public async Task<bool> NameExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        return await db.ApiKeys.AnyAsync(k => k.Name == name, cancellationToken);
    }

    public async Task<IReadOnlyList<KeyInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.ApiKeys.AsNoTracking().Select(k => new KeyInfo(k.Id, k.Name, k.Role, k.CreatedAt, k.RevokedAt)).ToListAsync(cancellationToken);
        return [.. rows.OrderBy(k => k.CreatedAt)];
    }

    /// <summary>Revokes a key and audits it as done by <paramref name="by"/>; null when there is no such key. Revoking twice keeps the first time.</summary>
    public async Task<KeyInfo?> RevokeAsync(Guid id, AuditActor by, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var row = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (row is null)
        {
            return null;
        }
        row.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        cache.TryRemove(row.Hash, out _);
        Revoked?.Invoke(row.Hash);
        await audit.RecordAsync(by, "key.revoke", id.ToString(), new { row.Name });
        return new KeyInfo(row.Id, row.Name, row.Role, row.CreatedAt, row.RevokedAt);
    }

    /// <summary>Raised with the key's hash after a revocation, so other replicas can be told to forget it.</summary>
    public event Action<string>? Revoked;

    /// <summary>Forgets a cached key (revoked on another replica); the next request checks the store.</summary>
    public void Forget(string hash) => cache.TryRemove(hash, out _);

    /// <summary>
    /// Makes sure an admin key exists. A configured key (CHURN_ADMIN_KEY) is stored as the "admin" key when no key
    /// with its hash exists; with no configured key and no active admin, one is generated and returned to be shown once.
    /// </summary>
    public async Task<string?> EnsureAdminAsync(string? configuredKey, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        if (configuredKey is not null)
        {
            var hash = Hash(configuredKey);
            if (!await db.ApiKeys.AnyAsync(k => k.Hash == hash, cancellationToken))
            {
                var name = await db.ApiKeys.AnyAsync(k => k.Name == AdminKeyName, cancellationToken) ? $"admin-{time.GetUtcNow():yyyyMMddHHmmss}" : AdminKeyName;
                await CreateAsync(name, Roles.Admin, cancellationToken, configuredKey);
            }
            return null;
        }
        if (await db.ApiKeys.AnyAsync(k => k.Role == Roles.Admin && k.RevokedAt == null, cancellationToken))
        {
            return null;
        }
        var fresh = await db.ApiKeys.AnyAsync(k => k.Name == AdminKeyName, cancellationToken) ? $"admin-{time.GetUtcNow():yyyyMMddHHmmss}" : AdminKeyName;
        return (await CreateAsync(fresh, Roles.Admin, cancellationToken)).Key;
    }
}
