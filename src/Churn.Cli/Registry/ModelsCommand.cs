using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Store;

namespace Churn.Cli.Registry;

/// <summary>
/// <c>churn models list|show|register|promote|rollback|history</c>: the model registry. Changes are audited with the
/// operating-system user (or <c>--by</c>) and this host as actor and address.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create() => Commands.Group("models", "List, inspect, promote and roll back registered model versions.",
        List(), Show(), Register(), Promote(), Rollback(), History());

    private static Command List()
    {
        var model = new Argument<string?>("model") { Description = "Only this model's versions.", Arity = ArgumentArity.ZeroOrOne };
        return StoreAccess.Command("list", "List registered versions with their aliases.", [model], async (parse, store, json, ct) =>
        {
            var versions = await store.Registry.ListVersionsAsync(parse.GetValue(model), ct);
            if (json)
            {
                StoreAccess.WriteJson(new { versions = versions.Select(AsJson) });
                return;
            }
            StoreAccess.WriteTable(versions, "No registered models yet: train one with 'churn train'.",
                ["Model", "Version", "Aliases", "Created", "By", "Run", "SHA-256"],
                v => [Markup.Escape(v.ModelName), $"v{v.Version}", string.Join(", ", v.Aliases), StoreAccess.Time(v.CreatedAt),
                    Markup.Escape(v.CreatedBy), v.RunId.ToString()[..8], v.Sha256[..12]]);
        });
    }

    private static Command Show()
    {
        var model = new Argument<string>("model") { Description = "Model name." };
        var version = new Argument<int?>("version") { Description = "Version number (default: the champion).", Arity = ArgumentArity.ZeroOrOne };
        var alias = new Option<string?>("--alias") { Description = "Show the version this alias points at." };
        var verify = new Option<bool>("--verify") { Description = "Check the package file's SHA-256." };
        return StoreAccess.Command("show", "Show one version: file, hash, aliases, model card.", [model, version, alias, verify], async (parse, store, json, ct) =>
        {
            var name = parse.GetValue(model)!;
            var info = parse.GetValue(version) is { } number
                ? await store.Registry.GetVersionAsync(name, number, ct)
                    ?? throw new CliException($"Model '{name}' has no version {number}.")
                : await store.Registry.ResolveAliasAsync(name, parse.GetValue(alias) ?? ModelAliases.Champion, ct)
                    ?? throw new CliException($"Model '{name}' has no {parse.GetValue(alias) ?? ModelAliases.Champion}; name a version.");
            var path = store.Registry.PackagePath(info, parse.GetValue(verify));
            if (json)
            {
                StoreAccess.WriteJson(new { version = AsJson(info), file = path, verified = parse.GetValue(verify) });
                return;
            }
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("Model", Markup.Escape(info.ModelName));
            grid.AddRow("Version", $"v{info.Version}");
            grid.AddRow("Aliases", string.Join(", ", info.Aliases));
            grid.AddRow("Run", info.RunId.ToString());
            grid.AddRow("File", Markup.Escape(path));
            grid.AddRow("SHA-256", info.Sha256 + (parse.GetValue(verify) ? " (verified)" : ""));
            grid.AddRow("Size", $"{info.SizeBytes:N0} bytes");
            grid.AddRow("Created", $"{StoreAccess.Time(info.CreatedAt)} by {Markup.Escape(info.CreatedBy)}");
            AnsiConsole.Write(grid);
        });
    }

    private static Command Register()
    {
        var model = new Argument<string>("model") { Description = "Model name." };
        var file = new Argument<string>("file") { Description = "The model package file to register (copied into the data directory)." };
        var card = new Option<string?>("--card") { Description = "A model card JSON file to store with the version." };
        var promote = new Option<bool>("--promote") { Description = "Make the new version the champion." };
        var by = new Option<string?>("--by") { Description = "Who registers it (default: the current user)." };
        return StoreAccess.Command("register", "Register a model package trained elsewhere as a new version (recorded as a run).", [model, file, card, promote, by], async (parse, store, json, ct) =>
        {
            var name = parse.GetValue(model)!;
            var source = Path.GetFullPath(parse.GetValue(file)!);
            var cardJson = parse.GetValue(card) is { } cardFile ? await File.ReadAllTextAsync(cardFile, ct) : "{}";
            var info = await store.Changes.RegisterAsync(name, source, cardJson, parse.GetValue(promote), AuditActor.ThisMachine(parse.GetValue(by)), ct);
            await StoreAccess.MirrorAsync(store);
            if (json)
            {
                StoreAccess.WriteJson(new { version = AsJson(info) });
                return;
            }
            Console.WriteLine($"Registered {name} v{info.Version}{(parse.GetValue(promote) ? " as champion" : "")}.");
        });
    }

    private static Command Promote()
    {
        var version = new Argument<int>("version") { Description = "Version number to promote." };
        var alias = new Option<string>("--alias") { Description = "champion (default) or challenger.", DefaultValueFactory = _ => ModelAliases.Champion };
        return AliasMove("promote", "Point an alias (champion or challenger) at a version.", "Who moves the alias (default: the current user).",
            [version, alias], parse => parse.GetValue(version),
            (parse, store, name, actor, reason, ct) => store.Changes.PromoteAsync(name, parse.GetValue(version), parse.GetValue(alias)!, actor, reason, ct));
    }

    private static Command Rollback()
    {
        var to = new Option<int?>("--to") { Description = "Version to roll back to (default: the previous champion)." };
        return AliasMove("rollback", "Move the champion back to the previous champion or a named version.", "Who rolls back (default: the current user).",
            [to], parse => parse.GetValue(to),
            (parse, store, name, actor, reason, ct) => store.Changes.RollbackAsync(name, parse.GetValue(to), actor, reason, ct));
    }

    /// <summary>
    /// promote and rollback: a model argument, <paramref name="symbols"/>, <c>--reason</c> and <c>--by</c>; the move is audited
    /// as the operating-system user (or <c>--by</c>) at this host, mirrored, and reported. A move that finds no version
    /// names the version <paramref name="wanted"/> reads.
    /// </summary>
    private static Command AliasMove(string name, string description, string byDescription, Symbol[] symbols, Func<ParseResult, int?> wanted,
        Func<ParseResult, ChurnStore, string, AuditActor, string?, CancellationToken, Task<AliasInfo?>> move)
    {
        var model = new Argument<string>("model") { Description = "Model name." };
        var reason = new Option<string?>("--reason") { Description = "Why, kept in the alias history." };
        var by = new Option<string?>("--by") { Description = byDescription };
        return StoreAccess.Command(name, description, [model, .. symbols, reason, by], async (parse, store, json, ct) =>
        {
            var modelName = parse.GetValue(model)!;
            var moved = await move(parse, store, modelName, AuditActor.ThisMachine(parse.GetValue(by)), parse.GetValue(reason), ct)
                ?? throw new CliException($"Model '{modelName}' has no version {wanted(parse)}.");
            await StoreAccess.MirrorAsync(store);
            WriteMove(moved, json);
        });
    }

    private static Command History()
    {
        var model = new Argument<string>("model") { Description = "Model name." };
        var alias = new Option<string?>("--alias") { Description = "Only this alias (champion or challenger)." };
        return StoreAccess.Command("history", "Which version held each alias, from when to when, moved by whom and why.", [model, alias], async (parse, store, json, ct) =>
        {
            var history = await store.Registry.HistoryAsync(parse.GetValue(model)!, parse.GetValue(alias), ct);
            if (json)
            {
                StoreAccess.WriteJson(new { history });
                return;
            }
            var table = new Table().AddColumns("Alias", "Version", "From", "To", "Moved by", "Reason");
            foreach (var h in history)
            {
                table.AddRow(h.Alias, $"v{h.Version}", StoreAccess.Time(h.ValidFrom), h.ValidTo is null ? "(current)" : StoreAccess.Time(h.ValidTo),
                    Markup.Escape(h.MovedBy), Markup.Escape(h.Reason ?? ""));
            }
            AnsiConsole.Write(table);
        });
    }

    private static void WriteMove(AliasInfo moved, bool json)
    {
        if (json)
        {
            StoreAccess.WriteJson(moved);
            return;
        }
        Console.WriteLine($"{moved.Alias} of {moved.ModelName} is now v{moved.Version}.");
    }

    private static object AsJson(ModelVersionInfo v) => new
    {
        model = v.ModelName,
        version = v.Version,
        aliases = v.Aliases,
        runId = v.RunId,
        packagePath = v.PackagePath,
        sha256 = v.Sha256,
        sizeBytes = v.SizeBytes,
        createdAt = v.CreatedAt,
        createdBy = v.CreatedBy,
    };
}
