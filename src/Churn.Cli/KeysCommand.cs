using Churn.Cli.Registry;
using Churn.Data.Security;

namespace Churn.Cli;

/// <summary><c>churn keys create|list|revoke</c>: API keys managed on the data directory's store, audited (as the operating-system user at this host) like the API's changes.</summary>
internal static class KeysCommand
{
    public static Command Create() => Commands.Group("keys", "Create, list and revoke API keys (stored only as hashes).", CreateKey(), List(), Revoke());

    private static Command CreateKey()
    {
        var name = new Option<string>("--name") { Description = "A unique name for the key (who or what uses it).", Required = true };
        var role = new Option<string>("--role") { Description = "admin, analyst, service or viewer.", Required = true };
        role.AcceptOnlyFromAmong([.. Roles.All]);
        return StoreAccess.Command("create", "Create a key and print it once.", [name, role], async (parse, store, json, ct) =>
        {
            var keyName = parse.GetRequiredValue(name);
            var created = await store.Keys.CreateAsync(keyName, parse.GetRequiredValue(role), AuditActor.ThisMachine(), ct)
                ?? throw new CliException($"A key named '{keyName}' exists; choose another --name.");
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(created, JsonSerializerOptions.Web));
                return;
            }
            AnsiConsole.MarkupLine($"Key [bold]{Markup.Escape(created.Name)}[/] ({created.Role}, id {created.Id}):");
            Console.WriteLine(created.Key);
            AnsiConsole.MarkupLine("[grey]Shown once: only its hash is stored. Send it in the X-API-Key header.[/]");
        });
    }

    private static Command List() =>
        StoreAccess.Command("list", "List keys (never their secrets).", [], async (parse, store, json, ct) =>
        {
            var all = await store.Keys.ListAsync(ct);
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(all, JsonSerializerOptions.Web));
                return;
            }
            var table = new Table().AddColumns("id", "name", "role", "created", "revoked");
            foreach (var k in all)
            {
                table.AddRow(k.Id.ToString(), Markup.Escape(k.Name), k.Role, $"{k.CreatedAt:u}", k.RevokedAt is { } r ? $"{r:u}" : "");
            }
            AnsiConsole.Write(table);
        });

    private static Command Revoke()
    {
        var key = new Argument<string>("key") { Description = "The key's id or name." };
        var dataDir = CommonOptions.DataDir();
        var command = new Command("revoke", "Revoke a key: it stops working at once on this machine (within 30 s on running servers).") { key, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using (var store = await StoreAccess.OpenAsync(parse.GetValue(dataDir), ct))
            {
                var which = parse.GetRequiredValue(key);
                var match = (await store.Keys.ListAsync(ct)).FirstOrDefault(k => k.Id.ToString() == which || k.Name == which)
                    ?? throw new CliException($"No key has the id or name '{which}'; see 'churn keys list'.");
                var revoked = await store.Keys.RevokeAsync(match.Id, AuditActor.ThisMachine(), ct);
                Console.WriteLine($"Revoked key {revoked!.Name} ({revoked.Id}).");
            }
            return 0;
        });
        return command;
    }
}
