using System.Data;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Churn.Data.Backup;

public sealed record BackupFile(string Path, string Sha256, long Size);

/// <summary>What an archive holds: every file with its SHA-256, and how the store snapshot was taken.</summary>
public sealed record BackupManifest(int Format, DateTimeOffset CreatedAt, string Provider, string StoreEntry, IReadOnlyList<BackupFile> Files);

/// <summary>A backup that cannot be written or restored as asked (corrupt archive, non-empty target).</summary>
public sealed class BackupException(string message) : StoreException(message);

/// <summary>
/// One-archive backups of a data directory: a consistent store snapshot (SQLite's online backup API, or every table
/// read in one REPEATABLE READ, READ ONLY transaction on PostgreSQL), the model files and the configuration files.
/// </summary>
public sealed class BackupService(StoreFactory contexts, TimeProvider time)
{
    public const string ManifestEntry = "manifest.json";
    private const string SqliteEntry = "store/churn.db";
    private const string TablesEntry = "store/tables.json";
    private const string FilesPrefix = "files/";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes the archive (a zip) to <paramref name="archivePath"/>, replacing it only once complete.</summary>
    public async Task<BackupManifest> BackupAsync(string archivePath, CancellationToken cancellationToken = default)
    {
        archivePath = Path.GetFullPath(archivePath);
        Directory.CreateDirectory(Path.GetDirectoryName(archivePath)!);
        var work = Path.Combine(Path.GetTempPath(), $"churn-backup-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var partial = archivePath + ".partial";
        try
        {
            // The store first, then the files: versions are immutable and a row is committed only after its file is in
            // place, so every row in the snapshot finds its file; files newer than the snapshot are harmless orphans.
            var (storeFile, storeEntry) = contexts.IsSqlite
                ? (await SnapshotSqliteAsync(work, cancellationToken), SqliteEntry)
                : (await ExportTablesAsync(work, cancellationToken), TablesEntry);

            var files = new List<BackupFile>();
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
            {
                files.Add(await AddAsync(zip, storeEntry, storeFile, cancellationToken));
                foreach (var (relative, full) in DataFiles(archivePath))
                {
                    files.Add(await AddAsync(zip, FilesPrefix + relative, full, cancellationToken));
                }
                var manifest = new BackupManifest(1, time.GetUtcNow(), contexts.Options.IsSqlite ? StoreOptions.Sqlite : StoreOptions.Postgres, storeEntry, files);
                var entry = zip.CreateEntry(ManifestEntry);
                await using (var manifestStream = await entry.OpenAsync(cancellationToken))
                {
                    await JsonSerializer.SerializeAsync(manifestStream, manifest, Json, cancellationToken);
                }
                await zip.DisposeAsync();
                File.Move(partial, archivePath, overwrite: true);
                return manifest;
            }
        }
        finally
        {
            File.Delete(partial);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Verifies the archive against its manifest, then replaces this data directory's store and files with it.
    /// A store or model folder that already holds data is only overwritten with <paramref name="force"/>.
    /// </summary>
    public async Task<BackupManifest> RestoreAsync(string archivePath, bool force, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(archivePath))
        {
            throw new BackupException($"The archive '{archivePath}' does not exist.");
        }
        using var zip = ZipFile.OpenRead(archivePath);
        var manifest = await VerifyAsync(zip, cancellationToken);

        await contexts.MigrateAsync(cancellationToken);
        if (!force && await HoldsDataAsync(cancellationToken))
        {
            throw new BackupException($"The store in '{contexts.DataDir}' is not empty; restore with --force to replace it.");
        }

        var work = Path.Combine(Path.GetTempPath(), $"churn-restore-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var storeFile = Path.Combine(work, Path.GetFileName(manifest.StoreEntry));
            zip.GetEntry(manifest.StoreEntry)!.ExtractToFile(storeFile);
            if (manifest.StoreEntry == SqliteEntry && contexts.IsSqlite)
            {
                // Same provider: the snapshot file becomes the database, byte for byte.
                SqliteConnection.ClearAllPools();
                var target = contexts.SqliteFile!;
                foreach (var suffix in new[] { "-wal", "-shm", "-journal" })
                {
                    File.Delete(target + suffix);
                }
                File.Copy(storeFile, target, overwrite: true);
            }
            else
            {
                var snapshot = await ReadSnapshotAsync(manifest.StoreEntry, storeFile, cancellationToken);
                await using var db = contexts.CreateDbContext();
                await snapshot.WriteAsync(db, cancellationToken);
            }

            var models = Path.Combine(contexts.DataDir, "models");
            if (Directory.Exists(models))
            {
                Directory.Delete(models, recursive: true);
            }
            foreach (var file in manifest.Files.Where(f => f.Path.StartsWith(FilesPrefix, StringComparison.Ordinal)))
            {
                var destination = Path.GetFullPath(Path.Combine(contexts.DataDir, file.Path[FilesPrefix.Length..]));
                if (!destination.StartsWith(contexts.DataDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new BackupException($"The archive entry '{file.Path}' points outside the data directory.");
                }
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                zip.GetEntry(file.Path)!.ExtractToFile(destination, overwrite: true);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        // A backup from an older version of Churn gets the migrations it is missing.
        await contexts.MigrateAsync(cancellationToken);
        return manifest;
    }

    /// <summary>Reads the manifest and checks every entry's size and SHA-256; an archive with anything off is refused whole.</summary>
    public static async Task<BackupManifest> VerifyAsync(ZipArchive zip, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var manifestEntry = zip.GetEntry(ManifestEntry) ?? throw new BackupException("The archive has no manifest.json; it is not a Churn backup.");
        BackupManifest manifest;
        await using (var stream = await manifestEntry.OpenAsync(cancellationToken))
        {
            manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(stream, Json, cancellationToken)
                ?? throw new BackupException("The archive's manifest.json is empty.");
        }
        if (manifest.Format != 1)
        {
            throw new BackupException($"The archive has format {manifest.Format}; this version of Churn reads format 1.");
        }
        foreach (var file in manifest.Files)
        {
            var entry = zip.GetEntry(file.Path) ?? throw new BackupException($"The archive is missing '{file.Path}' listed in its manifest.");
            await using var stream = await entry.OpenAsync(cancellationToken);
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            if (hash != file.Sha256 || entry.Length != file.Size)
            {
                throw new BackupException($"'{file.Path}' in the archive does not match its manifest checksum; the archive is damaged.");
            }
        }
        var listed = manifest.Files.Select(f => f.Path).Append(ManifestEntry).ToHashSet(StringComparer.Ordinal);
        var extra = zip.Entries.FirstOrDefault(e => !listed.Contains(e.FullName));
        if (extra is not null)
        {
            throw new BackupException($"The archive holds '{extra.FullName}', which its manifest does not list.");
        }
        if (manifest.Files.All(f => f.Path != manifest.StoreEntry))
        {
            throw new BackupException("The archive holds no store snapshot.");
        }
        return manifest;
    }

    private async Task<bool> HoldsDataAsync(CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        if (await db.Runs.AnyAsync(cancellationToken) || await db.ModelVersions.AnyAsync(cancellationToken))
        {
            return true;
        }
        var models = Path.Combine(contexts.DataDir, "models");
        return Directory.Exists(models) && Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories)
            .Any(f => Path.GetFileName(f) != ".registry.lock");
    }

    private async Task<string> SnapshotSqliteAsync(string work, CancellationToken cancellationToken)
    {
        var snapshot = Path.Combine(work, "churn.db");
        await using var source = new SqliteConnection(contexts.ConnectionString);
        await source.OpenAsync(cancellationToken);
        await using var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = snapshot, Pooling = false }.ToString());
        await destination.OpenAsync(cancellationToken);
        source.BackupDatabase(destination);
        return snapshot;
    }

    private async Task<string> ExportTablesAsync(string work, CancellationToken cancellationToken)
    {
        var export = Path.Combine(work, "tables.json");
        await using var db = contexts.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await db.Database.ExecuteSqlRawAsync("SET TRANSACTION READ ONLY", cancellationToken);
        var snapshot = await StoreSnapshot.ReadAsync(db, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await using var stream = File.Create(export);
        await JsonSerializer.SerializeAsync(stream, snapshot, cancellationToken: cancellationToken);
        return export;
    }

    private static async Task<StoreSnapshot> ReadSnapshotAsync(string storeEntry, string storeFile, CancellationToken cancellationToken)
    {
        if (storeEntry == TablesEntry)
        {
            await using var stream = File.OpenRead(storeFile);
            return await JsonSerializer.DeserializeAsync<StoreSnapshot>(stream, cancellationToken: cancellationToken)
                ?? throw new BackupException("The archive's table export is empty.");
        }
        // A SQLite snapshot restored into PostgreSQL: read it through the SQLite model, write it through the target's.
        var source = new StoreFactory(new StoreOptions { ConnectionString = $"Data Source={storeFile};Pooling=False" }, Path.GetDirectoryName(storeFile)!);
        await source.MigrateAsync(cancellationToken);
        await using var db = source.CreateDbContext();
        return await StoreSnapshot.ReadAsync(db, cancellationToken);
    }

    /// <summary>
    /// Files of the data directory to archive: models and configuration, not the live database or work folders. The
    /// prediction journal and spill belong to a running server (its journal lock cannot even be read), and earlier
    /// archives kept under <c>backups/</c> would otherwise nest inside every later one.
    /// </summary>
    private IEnumerable<(string Relative, string Full)> DataFiles(string archivePath)
    {
        var root = contexts.DataDir;
        if (!Directory.Exists(root))
        {
            yield break;
        }
        var database = contexts.SqliteFile is { } file ? Path.GetFullPath(file) : null;
        foreach (var full in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, full).Replace(Path.DirectorySeparatorChar, '/');
            var skip = full == archivePath || full == archivePath + ".partial"
                || (database is not null && full.StartsWith(database, StringComparison.Ordinal))
                || relative.StartsWith("models/.staging/", StringComparison.Ordinal)
                || WorkFolders.Any(folder => relative.StartsWith(folder, StringComparison.Ordinal))
                || relative == "models/.registry.lock";
            if (!skip)
            {
                yield return (relative, full);
            }
        }
    }

    /// <summary>Folders of the data directory that <see cref="DataFiles"/> leaves out, with their trailing slash.</summary>
    private static readonly string[] WorkFolders = ["journal/", "spill/", "backups/"];

    private static async Task<BackupFile> AddAsync(ZipArchive zip, string entryName, string file, CancellationToken cancellationToken)
    {
        string hash;
        await using (var read = File.OpenRead(file))
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancellationToken));
        }
        var entry = zip.CreateEntry(entryName, CompressionLevel.Fastest);
        await using (var output = await entry.OpenAsync(cancellationToken))
        await using (var input = File.OpenRead(file))
        {
            await input.CopyToAsync(output, cancellationToken);
        }
        return new BackupFile(entryName, hash, new FileInfo(file).Length);
    }
}
