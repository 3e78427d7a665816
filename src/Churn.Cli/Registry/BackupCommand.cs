using Churn.Data.Security;
using Churn.Data.Store;

namespace Churn.Cli.Registry;

/// <summary><c>churn backup --out FILE</c> and <c>churn restore FILE [--force]</c>.</summary>
internal static class BackupCommand
{
    public static Command Backup()
    {
        var output = new Option<string>("--out") { Description = "The archive to write (zip).", Required = true };
        return StoreAccess.Command("backup", "Write the store, model files and configuration to one archive.", [output], async (parse, store, json, ct) =>
        {
            var archive = Path.GetFullPath(parse.GetValue(output)!);
            var manifest = await store.Backup.BackupAsync(archive, ct);
            if (json)
            {
                StoreAccess.WriteJson(new { archive, manifest });
                return;
            }
            Console.WriteLine($"Wrote {archive}: {manifest.Provider} store and {manifest.Files.Count - 1} files, {manifest.Files.Sum(f => f.Size):N0} bytes.");
        });
    }

    public static Command Restore()
    {
        var archive = new Argument<string>("file") { Description = "An archive written by 'churn backup'." };
        var force = new Option<bool>("--force") { Description = "Replace a store that already holds runs or models." };
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("restore", "Verify an archive and restore it into the data directory.") { archive, force, json, dataDir };
        command.SetAction((parse, ct) => StoreAccess.RunAsync(async () =>
        {
            var directory = CommonOptions.ResolveDataDir(parse.GetValue(dataDir));
            var configured = StoreConfiguration.Load(directory);
            var contexts = new StoreFactory(configured.Store, directory);
            var backup = new Churn.Data.Backup.BackupService(contexts, TimeProvider.System);
            var manifest = await backup.RestoreAsync(Path.GetFullPath(parse.GetValue(archive)!), parse.GetValue(force), ct);
            // Written into the restored store, after the audit log the archive brought back.
            await new AuditLog(contexts, TimeProvider.System).RecordAsync(AuditActor.ThisMachine(), "store.restore", Path.GetFileName(parse.GetValue(archive)),
                new { manifest.CreatedAt, files = manifest.Files.Count, force = parse.GetValue(force) });
            if (parse.GetValue(json))
            {
                StoreAccess.WriteJson(new { dataDir = directory, manifest });
                return;
            }
            Console.WriteLine($"Restored {manifest.Files.Count - 1} files and the store from {manifest.CreatedAt:yyyy-MM-dd HH:mm}Z into {directory}.");
        }));
        return command;
    }
}
