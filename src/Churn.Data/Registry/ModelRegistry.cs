using System.Diagnostics;
using System.Security.Cryptography;
using Churn.Data.Mlflow;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Registry;

/// <summary>
/// Immutable model versions with movable aliases. Files are published before rows: a version's package is copied to
/// a staging folder, flushed, renamed into <c>models/&lt;name&gt;/v&lt;N&gt;</c> and only then is its row committed,
/// so a row never points at a missing file. Folders without a row (a killed registration) are removed by the next one.
/// </summary>
public sealed class ModelRegistry(
    StoreFactory contexts,
    MlflowOutbox outbox,
    TimeProvider time,
    ILogger<ModelRegistry>? logger = null)
{
#if DEBUG
    /// <summary>Test hook, in debug builds only: "staged" or "moved" makes registration stop at that point (after touching the signal file) until killed.</summary>
    internal const string PauseVariable = "CHURN_REGISTRY_PAUSE";
    internal const string PauseSignalVariable = "CHURN_REGISTRY_PAUSE_SIGNAL";
#endif
    private const int MaxAliasAttempts = 30;

    private readonly ILogger log = logger ?? NullLogger<ModelRegistry>.Instance;

    public string ModelsDir => Path.Combine(contexts.DataDir, "models");

    private string StagingDir => Path.Combine(ModelsDir, ".staging");

    /// <summary>
    /// Registers a package file written by training as the next version of <paramref name="modelName"/>.
    /// The source file is copied; the caller may delete it afterwards.
    /// </summary>
    public async Task<ModelVersionInfo> RegisterAsync(
        string modelName,
        Guid runId,
        string sourcePackageFile,
        string cardJson,
        string createdBy,
        CancellationToken cancellationToken = default)
    {
        ModelNames.Validate(modelName);
        if (!File.Exists(sourcePackageFile))
        {
            throw new RegistryException($"The package file '{sourcePackageFile}' does not exist.");
        }
        await using (var check = await contexts.CreateDbContextAsync(cancellationToken))
        {
            if (!await check.Runs.AnyAsync(r => r.Id == runId, cancellationToken))
            {
                throw new RegistryException($"Run {runId} does not exist.");
            }
        }

        await using var registryLock = await AcquireLockAsync(cancellationToken);
        await CleanOrphansLockedAsync(cancellationToken);

        var fileName = Path.GetFileName(sourcePackageFile);
        var staging = Path.Combine(StagingDir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        var (sha256, size) = await CopyAndHashAsync(sourcePackageFile, Path.Combine(staging, fileName), cancellationToken);
        PauseIfAsked("staged");

        var modelDir = Path.Combine(ModelsDir, modelName);
        Directory.CreateDirectory(modelDir);
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var next = (await db.ModelVersions.Where(v => v.ModelName == modelName).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0) + 1;
            var versionDir = Path.Combine(modelDir, $"v{next}");
            if (Directory.Exists(versionDir))
            {
                // Only possible when another machine registers into a shared data directory without sharing our lock.
                throw new RegistryException($"The folder '{versionDir}' already exists without a registered version; retry.");
            }
            Directory.Move(staging, versionDir);
            PauseIfAsked("moved");

            var now = time.GetUtcNow();
            var row = new ModelVersion
            {
                ModelName = modelName,
                Version = next,
                RunId = runId,
                PackagePath = $"models/{modelName}/v{next}/{fileName}",
                Sha256 = sha256,
                SizeBytes = size,
                CardJson = cardJson,
                CreatedAt = now,
                CreatedBy = createdBy,
            };
            db.ModelVersions.Add(row);
            outbox.Add(db, MirrorKinds.ModelVersion, new VersionPayload(modelName, next), now);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                log.LogInformation("Registered {Model} v{Version} ({Sha256}).", modelName, next, sha256);
                return AsInfo(row, []);
            }
            catch (DbUpdateException ex) when (attempt < 5)
            {
                // Another writer took this number (a replica on another machine); put the files back and try the next one.
                log.LogWarning(ex, "Version {Version} of {Model} was taken concurrently; retrying.", next, modelName);
                Directory.Move(versionDir, staging);
            }
        }
    }

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/>, closing the alias's previous period in the history.</summary>
    public async Task<AliasInfo> PromoteAsync(
        string modelName,
        int version,
        string alias,
        string movedBy,
        string? reason = null,
        CancellationToken cancellationToken = default)
    {
        alias = ModelAliases.Validate(alias);
        return await MoveAliasAsync(new AliasMove(modelName, alias, version, movedBy, reason ?? "promote"), cancellationToken);
    }

    /// <summary>Moves the champion back to <paramref name="toVersion"/>, or when null to the version that was champion before the current one.</summary>
    public async Task<AliasInfo> RollbackAsync(
        string modelName,
        int? toVersion,
        string movedBy,
        string? reason = null,
        CancellationToken cancellationToken = default)
    {
        toVersion ??= await PreviousChampionAsync(modelName, cancellationToken);
        return await MoveAliasAsync(new AliasMove(modelName, ModelAliases.Champion, toVersion.Value, movedBy, reason ?? "rollback"), cancellationToken);
    }

    /// <summary>The version that was champion before the current one (the most recent other champion).</summary>
    /// <exception cref="RegistryException">The model has no champion, or no other version has been champion.</exception>
    public async Task<int> PreviousChampionAsync(string modelName, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var current = await db.Aliases.AsNoTracking()
            .SingleOrDefaultAsync(a => a.ModelName == modelName && a.Alias == ModelAliases.Champion, cancellationToken)
            ?? throw new RegistryException($"Model '{modelName}' has no champion to roll back.");
        return await db.AliasHistory.AsNoTracking()
            .Where(h => h.ModelName == modelName && h.Alias == ModelAliases.Champion && h.ValidTo != null && h.Version != current.Version)
            .OrderByDescending(h => h.Id)
            .Select(h => (int?)h.Version)
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw new RegistryException($"Model '{modelName}' has no previous champion to roll back to.");
    }

    public async Task<AliasInfo?> GetAliasAsync(string modelName, string alias, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Aliases.AsNoTracking()
            .Where(a => a.ModelName == modelName && a.Alias == alias)
            .Select(a => new AliasInfo(a.ModelName, a.Alias, a.Version))
            .SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The version an alias points at, with its file information; null when the alias is unset.</summary>
    public async Task<ModelVersionInfo?> ResolveAliasAsync(string modelName, string alias, CancellationToken cancellationToken = default)
    {
        var target = await GetAliasAsync(modelName, alias, cancellationToken);
        return target is null ? null : await GetVersionAsync(modelName, target.Version, cancellationToken);
    }

    /// <summary>Registered model names, in order.</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ModelVersions.Select(v => v.ModelName).Distinct().OrderBy(n => n).ToListAsync(cancellationToken);
    }

    /// <summary>Versions (of one model, or all), oldest first, each with the aliases that point at it.</summary>
    public async Task<IReadOnlyList<ModelVersionInfo>> ListVersionsAsync(string? modelName = null, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var versions = db.ModelVersions.AsNoTracking();
        var aliases = db.Aliases.AsNoTracking();
        if (modelName is not null)
        {
            versions = versions.Where(v => v.ModelName == modelName);
            aliases = aliases.Where(a => a.ModelName == modelName);
        }
        var rows = await versions.OrderBy(v => v.ModelName).ThenBy(v => v.Version).ToListAsync(cancellationToken);
        var aliasRows = await aliases.ToListAsync(cancellationToken);
        return rows.Select(v => AsInfo(v, aliasRows.Where(a => a.ModelName == v.ModelName && a.Version == v.Version)
            .Select(a => a.Alias).Order(StringComparer.Ordinal).ToList())).ToList();
    }

    public async Task<ModelVersionInfo?> GetVersionAsync(string modelName, int version, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.ModelVersions.AsNoTracking()
            .SingleOrDefaultAsync(v => v.ModelName == modelName && v.Version == version, cancellationToken);
        if (row is null)
        {
            return null;
        }
        var aliases = await db.Aliases.AsNoTracking()
            .Where(a => a.ModelName == modelName && a.Version == version)
            .Select(a => a.Alias).OrderBy(a => a).ToListAsync(cancellationToken);
        return AsInfo(row, aliases);
    }

    /// <summary>Alias periods, oldest first (of one alias, or all aliases of the model).</summary>
    public async Task<IReadOnlyList<AliasHistoryInfo>> HistoryAsync(string modelName, string? alias = null, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.AliasHistory.AsNoTracking().Where(h => h.ModelName == modelName);
        if (alias is not null)
        {
            query = query.Where(h => h.Alias == alias);
        }
        return await query.OrderBy(h => h.Id)
            .Select(h => new AliasHistoryInfo(h.ModelName, h.Alias, h.Version, h.ValidFrom, h.ValidTo, h.MovedBy, h.Reason))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The absolute path of a version's package file, optionally checking that it still hashes to the registered SHA-256.</summary>
    public string PackagePath(ModelVersionInfo version, bool verifySha256 = false)
    {
        ArgumentNullException.ThrowIfNull(version);
        var path = Path.GetFullPath(Path.Combine(contexts.DataDir, version.PackagePath));
        if (!File.Exists(path))
        {
            throw new ModelIntegrityException($"The package file of {version.ModelName} v{version.Version} is missing: {path}.");
        }
        if (verifySha256)
        {
            using var stream = File.OpenRead(path);
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != version.Sha256)
            {
                throw new ModelIntegrityException(
                    $"The package file of {version.ModelName} v{version.Version} has SHA-256 {actual}, not the registered {version.Sha256}.");
            }
        }
        return path;
    }

    /// <summary>Removes staging folders and version folders that have no row: leftovers of a registration killed midway.</summary>
    public async Task<int> CleanOrphansAsync(CancellationToken cancellationToken = default)
    {
        await using var registryLock = await AcquireLockAsync(cancellationToken);
        return await CleanOrphansLockedAsync(cancellationToken);
    }

    private async Task<int> CleanOrphansLockedAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        if (Directory.Exists(StagingDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(StagingDir))
            {
                Directory.Delete(dir, recursive: true);
                removed++;
            }
        }
        if (!Directory.Exists(ModelsDir))
        {
            return removed;
        }
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var known = (await db.ModelVersions.Select(v => new { v.ModelName, v.Version }).ToListAsync(cancellationToken))
            .Select(v => $"{v.ModelName}/v{v.Version}").ToHashSet(StringComparer.Ordinal);
        foreach (var modelDir in Directory.EnumerateDirectories(ModelsDir))
        {
            var model = Path.GetFileName(modelDir);
            if (model.StartsWith('.'))
            {
                continue;
            }
            foreach (var versionDir in Directory.EnumerateDirectories(modelDir, "v*"))
            {
                if (!known.Contains($"{model}/{Path.GetFileName(versionDir)}"))
                {
                    log.LogWarning("Removing {Folder}: it has no registered version (an interrupted registration).", versionDir);
                    Directory.Delete(versionDir, recursive: true);
                    removed++;
                }
            }
        }
        return removed;
    }

    /// <summary>One alias move: which alias of which model goes to which version, by whom and why.</summary>
    private sealed record AliasMove(string ModelName, string Alias, int Version, string MovedBy, string Reason);

    private async Task<AliasInfo> MoveAliasAsync(AliasMove move, CancellationToken cancellationToken)
    {
        var (modelName, alias, _, _, _) = move;
        ModelNames.Validate(modelName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var moved = await TryMoveAliasAsync(move, cancellationToken);
                if (moved is not null)
                {
                    return moved;
                }
            }
            catch (DbUpdateException ex) when (attempt < MaxAliasAttempts)
            {
                // A concurrent mover inserted the alias or opened a history row first; the next round sees its result.
                log.LogDebug(ex, "Alias {Alias} of {Model} moved concurrently; retrying.", alias, modelName);
            }
            catch (DbUpdateException ex)
            {
                throw new AliasConflictException(
                    $"The {alias} alias of '{modelName}' kept changing during {MaxAliasAttempts} attempts; try again.", ex);
            }
            if (attempt >= MaxAliasAttempts)
            {
                throw new AliasConflictException($"The {alias} alias of '{modelName}' kept changing during {MaxAliasAttempts} attempts; try again.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 + (attempt * 10))), cancellationToken);
        }
    }

    /// <summary>One round of an alias move in one transaction; null when another mover changed the alias first.</summary>
    private async Task<AliasInfo?> TryMoveAliasAsync(AliasMove move, CancellationToken cancellationToken)
    {
        var (modelName, alias, version, movedBy, reason) = move;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await db.ModelVersions.AnyAsync(v => v.ModelName == modelName && v.Version == version, cancellationToken))
        {
            throw new RegistryException($"Model '{modelName}' has no version {version}.");
        }
        var current = await db.Aliases.AsNoTracking()
            .SingleOrDefaultAsync(a => a.ModelName == modelName && a.Alias == alias, cancellationToken);
        if (current?.Version == version)
        {
            return new AliasInfo(modelName, alias, version);
        }

        // The alias row is changed first and only if its token is the one we read: on PostgreSQL this takes the row
        // lock that serialises concurrent movers, and a loser sees zero rows and starts a new round.
        if (current is null)
        {
            db.Aliases.Add(new ModelAlias { ModelName = modelName, Alias = alias, Version = version, ConcurrencyToken = Guid.NewGuid() });
            await db.SaveChangesAsync(cancellationToken);
        }
        else
        {
            var token = current.ConcurrencyToken;
            var changed = await db.Aliases
                .Where(a => a.ModelName == modelName && a.Alias == alias && a.ConcurrencyToken == token)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Version, version).SetProperty(a => a.ConcurrencyToken, Guid.NewGuid()), cancellationToken);
            if (changed == 0)
            {
                return null;
            }
        }

        var now = time.GetUtcNow();
        await CloseOpenPeriodAsync(db, modelName, alias, now, cancellationToken);
        db.AliasHistory.Add(new AliasHistoryEntry
        {
            ModelName = modelName,
            Alias = alias,
            Version = version,
            ValidFrom = now,
            MovedBy = movedBy,
            Reason = reason,
        });
        outbox.Add(db, MirrorKinds.AliasSet, new AliasPayload(modelName, alias, version), now);

        // A challenger that becomes champion has won its comparison; it stops being the challenger (MLflow's usual flow).
        if (alias == ModelAliases.Champion)
        {
            var removed = await db.Aliases
                .Where(a => a.ModelName == modelName && a.Alias == ModelAliases.Challenger && a.Version == version)
                .ExecuteDeleteAsync(cancellationToken);
            if (removed > 0)
            {
                await CloseOpenPeriodAsync(db, modelName, ModelAliases.Challenger, now, cancellationToken);
                outbox.Add(db, MirrorKinds.AliasDelete, new AliasPayload(modelName, ModelAliases.Challenger, null), now);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        log.LogInformation("{Alias} of {Model} now points at v{Version} (by {MovedBy}: {Reason}).", alias, modelName, version, movedBy, reason);
        return new AliasInfo(modelName, alias, version);
    }

    private static Task<int> CloseOpenPeriodAsync(ChurnDbContext db, string modelName, string alias, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.AliasHistory
            .Where(h => h.ModelName == modelName && h.Alias == alias && h.ValidTo == null)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.ValidTo, now), cancellationToken);

    private static ModelVersionInfo AsInfo(ModelVersion v, IReadOnlyList<string> aliases) => new(
        v.ModelName, v.Version, v.RunId, v.PackagePath, v.Sha256, v.SizeBytes, v.CardJson, v.CreatedAt, v.CreatedBy, aliases);

    private static async Task<(string Sha256, long Size)> CopyAndHashAsync(string source, string destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var input = File.OpenRead(source);
        long size = 0;
        await using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                size += read;
            }
            // The bytes must be on disk before the rename publishes them, or a power cut could leave a published empty file.
            output.Flush(flushToDisk: true);
        }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    /// <summary>
    /// Registrations on one data directory take turns through an OS file lock, which the kernel releases when a
    /// process dies; orphan cleaning under the lock can therefore never remove a registration still in progress.
    /// </summary>
    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(ModelsDir);
        var path = Path.Combine(ModelsDir, ".registry.lock");
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(25, cancellationToken);
            }
        }
    }

    // Release builds drop the calls (Conditional) and the body (#if), so no shipped binary reads these variables.
    [Conditional("DEBUG")]
    private static void PauseIfAsked(string point)
    {
#if DEBUG
        if (Environment.GetEnvironmentVariable(PauseVariable) != point)
        {
            return;
        }
        var signal = Environment.GetEnvironmentVariable(PauseSignalVariable);
        if (signal is not null)
        {
            File.WriteAllText(signal, point);
        }
        Thread.Sleep(Timeout.Infinite);
#endif
    }
}
