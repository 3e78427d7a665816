using System.Security.Cryptography;

namespace Churn.Server.Dashboard;

public sealed record DashboardUserInfo(Guid Id, string UserName, string Role, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, bool Disabled);

/// <summary>Why a change to a dashboard user was refused, in words for the admin who asked.</summary>
public sealed class DashboardUserException(string message) : Exception(message);

/// <summary>
/// The people who sign in to the dashboard. Passwords are stored as PBKDF2-SHA256 hashes with a random salt
/// (<c>pbkdf2-sha256$iterations$salt$hash</c>), so the iteration count can grow without breaking stored hashes.
/// A disabled user's hash carries a leading <c>!</c> (as a locked account in /etc/shadow does): it can never verify,
/// enabling removes the mark and the old password works again, and no schema change was needed.
/// </summary>
public sealed class DashboardUsers(StoreFactory store, TimeProvider time)
{
    public const int Iterations = 100_000;

    public const int MinPasswordLength = 10;

    private const string DisabledMark = "!";

    /// <summary>Roles a dashboard user can hold: the API's roles without "service", which is for machines.</summary>
    public static readonly IReadOnlyList<string> UserRoles = [Roles.Admin, Roles.Analyst, Roles.Viewer];

    public static string HashPassword(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool VerifyPassword(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations))
        {
            return false;
        }
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>The user when the password matches, else null. Unknown users cost a hash too, so timing does not reveal who exists.</summary>
    public async Task<DashboardUserInfo?> SignInAsync(string userName, string password, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var user = await db.Users.SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken);
        if (user is null)
        {
            VerifyPassword(password, DummyHash);
            return null;
        }
        if (IsDisabled(user) || !VerifyPassword(password, user.PasswordHash))
        {
            return null;
        }
        user.LastLoginAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return AsInfo(user);
    }

    public async Task<DashboardUserInfo> CreateAsync(string userName, string password, string role, CancellationToken cancellationToken)
    {
        if (!UserRoles.Contains(role, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The role must be one of {string.Join(", ", UserRoles)}.", nameof(role));
        }
        var user = new DashboardUser
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            UserName = userName,
            PasswordHash = HashPassword(password),
            Role = role,
            CreatedAt = time.GetUtcNow(),
        };
        await using var db = store.CreateDbContext();
        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return AsInfo(user);
    }

    public async Task<IReadOnlyList<DashboardUserInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var users = await db.Users.AsNoTracking().ToListAsync(cancellationToken);
        return [.. users.OrderBy(u => u.UserName, StringComparer.Ordinal).Select(AsInfo)];
    }

    /// <summary>
    /// Makes sure a dashboard admin exists. With a configured password the admin user is created (or its password
    /// reset to it); with none and no admin yet, a password is generated and returned to be shown once.
    /// </summary>
    public async Task<string?> EnsureAdminAsync(string userName, string? configuredPassword, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var user = await db.Users.SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken);
        if (configuredPassword is not null)
        {
            if (user is null)
            {
                await CreateAsync(userName, configuredPassword, Roles.Admin, cancellationToken);
            }
            else if (!VerifyPassword(configuredPassword, user.PasswordHash))
            {
                user.PasswordHash = HashPassword(configuredPassword);
                await db.SaveChangesAsync(cancellationToken);
            }
            return null;
        }
        if (user is not null || await db.Users.AnyAsync(u => u.Role == Roles.Admin, cancellationToken))
        {
            return null;
        }
        var generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', '-').Replace('/', '_');
        await CreateAsync(userName, generated, Roles.Admin, cancellationToken);
        return generated;
    }

    /// <summary>Field errors of a new user or a password reset (null arguments are not checked), keyed by field name.</summary>
    public static Dictionary<string, string[]> Validate(string? userName, string? password, string? role, bool checkUserName = true, bool checkRole = true)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (checkUserName && (string.IsNullOrEmpty(userName) || !System.Text.RegularExpressions.Regex.IsMatch(userName, "^[A-Za-z0-9._@-]{1,100}$")))
        {
            errors["userName"] = ["must be 1 to 100 letters, digits or . _ @ -."];
        }
        if (password is null || password.Length < MinPasswordLength || password.Length > 200)
        {
            errors["password"] = [$"must be {MinPasswordLength} to 200 characters long."];
        }
        if (checkRole && (role is null || !UserRoles.Contains(role, StringComparer.Ordinal)))
        {
            errors["role"] = [$"must be one of {string.Join(", ", UserRoles)}."];
        }
        return errors;
    }

    public async Task<bool> ExistsAsync(string userName, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        return await db.Users.AnyAsync(u => u.UserName == userName, cancellationToken);
    }

    public async Task<DashboardUserInfo?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? null : AsInfo(user);
    }

    /// <summary>Sets a new password; a disabled user stays disabled. Null when there is no such user.</summary>
    public async Task<DashboardUserInfo?> ResetPasswordAsync(Guid id, string password, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return null;
        }
        user.PasswordHash = (IsDisabled(user) ? DisabledMark : "") + HashPassword(password);
        await db.SaveChangesAsync(cancellationToken);
        return AsInfo(user);
    }

    /// <summary>
    /// Disables or enables a user. Refused for the acting admin's own account and for the last enabled admin, so the
    /// dashboard always keeps someone who can undo it. Null when there is no such user.
    /// </summary>
    public async Task<DashboardUserInfo?> SetDisabledAsync(Guid id, bool disabled, string actor, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return null;
        }
        if (disabled == IsDisabled(user))
        {
            return AsInfo(user);
        }
        if (disabled)
        {
            if (string.Equals(user.UserName, actor, StringComparison.Ordinal))
            {
                throw new DashboardUserException("You cannot disable your own account.");
            }
            if (user.Role == Roles.Admin)
            {
                var admins = await db.Users.Where(u => u.Role == Roles.Admin).Select(u => u.PasswordHash).ToListAsync(cancellationToken);
                if (admins.Count(h => !h.StartsWith(DisabledMark, StringComparison.Ordinal)) <= 1)
                {
                    throw new DashboardUserException("This is the last enabled admin; enable or add another admin first.");
                }
            }
            user.PasswordHash = DisabledMark + user.PasswordHash;
        }
        else
        {
            user.PasswordHash = user.PasswordHash[DisabledMark.Length..];
        }
        await db.SaveChangesAsync(cancellationToken);
        return AsInfo(user);
    }

    private static bool IsDisabled(DashboardUser u) => u.PasswordHash.StartsWith(DisabledMark, StringComparison.Ordinal);

    private static readonly string DummyHash = HashPassword(Guid.NewGuid().ToString());

    private static DashboardUserInfo AsInfo(DashboardUser u) => new(u.Id, u.UserName, u.Role, u.CreatedAt, u.LastLoginAt, IsDisabled(u));
}
