using Churn.Data.Tracking;

namespace Churn.Cli.Registry;

/// <summary><c>churn runs list|show</c>: the training runs recorded in the store.</summary>
internal static class RunsCommand
{
    public static Command Create() => Commands.Group("runs", "List and inspect recorded training runs.", List(), Show());

    private static Command List()
    {
        var model = new Option<string?>("--model") { Description = "Only this model's runs." };
        var limit = new Option<int>("--limit") { Description = "At most this many runs, newest first.", DefaultValueFactory = _ => 50 };
        return StoreAccess.Command("list", "List runs, newest first.", [model, limit], async (parse, store, json, ct) =>
        {
            var runs = await store.Runs.ListAsync(parse.GetValue(model), parse.GetValue(limit), ct);
            if (json)
            {
                StoreAccess.WriteJson(new { runs });
                return;
            }
            StoreAccess.WriteTable(runs, "No runs recorded yet: train a model with 'churn train'.",
                ["Run", "Model", "Status", "Trigger", "Started", "Duration", "Metrics"],
                run => [run.Id.ToString(), Markup.Escape(run.ModelName), Status(run.Status), run.Trigger.ToString().ToLowerInvariant(),
                    StoreAccess.Time(run.StartedAt), run.DurationSeconds is { } s ? $"{s:0.0}s" : "",
                    Markup.Escape(string.Join(", ", run.Metrics.Take(3).Select(m => $"{m.Key}={m.Value:0.####}")))]);
        });
    }

    private static Command Show()
    {
        var id = new Argument<string>("run") { Description = "Run id (or a unique prefix of it)." };
        return StoreAccess.Command("show", "Show one run: parameters, metrics, artifacts, outcome.", [id], async (parse, store, json, ct) =>
        {
            var wanted = parse.GetValue(id)!;
            var run = Guid.TryParse(wanted, out var guid)
                ? await store.Runs.GetAsync(guid, ct)
                : (await store.Runs.ListAsync(limit: int.MaxValue, cancellationToken: ct))
                    .Where(r => r.Id.ToString().StartsWith(wanted, StringComparison.OrdinalIgnoreCase))
                    .ToList() switch
                {
                    [var only] => only,
                    [] => null,
                    _ => throw new CliException($"More than one run starts with '{wanted}'; give more of the id."),
                };
            if (run is null)
            {
                throw new CliException($"No run '{wanted}'.");
            }
            if (json)
            {
                StoreAccess.WriteJson(run);
                return;
            }
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("Run", run.Id.ToString());
            grid.AddRow("Model", Markup.Escape(run.ModelName));
            grid.AddRow("Status", Status(run.Status));
            grid.AddRow("Trigger", run.Trigger.ToString().ToLowerInvariant());
            grid.AddRow("Started", StoreAccess.Time(run.StartedAt));
            grid.AddRow("Ended", StoreAccess.Time(run.EndedAt));
            grid.AddRow("Dataset", run.DatasetFingerprint ?? "");
            grid.AddRow("Parent", run.ParentModelVersion is { } p ? $"v{p}" : "");
            if (run.Error is not null)
            {
                grid.AddRow("Error", Markup.Escape(run.Error));
            }
            AnsiConsole.Write(grid);
            Section("Parameters", run.Parameters.Select(p => (p.Key, p.Value)));
            Section("Metrics", run.Metrics.Select(m => (m.Key, m.Value.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture))));
            Section("Artifacts", run.Artifacts.Select(a => (a.Key, a.Value)));
        });
    }

    private static void Section(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var table = new Table().Title(title).AddColumns("Name", "Value");
        foreach (var (key, value) in rows.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(value));
        }
        AnsiConsole.Write(table);
    }

    private static string Status(RunStatus status) => status switch
    {
        RunStatus.Finished => "[green]finished[/]",
        RunStatus.Failed => "[red]failed[/]",
        _ => "[yellow]running[/]",
    };
}
