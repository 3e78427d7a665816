using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Churn.Core.Models;
using Churn.Data;
using Churn.Data.Retraining;
using Churn.Data.Settings;
using Churn.Data.Tracking;
using Microsoft.EntityFrameworkCore;
using Spectre.Console;

namespace Churn.Cli.Registry;

/// <summary>
/// <c>churn retrain</c>: the retraining <c>POST /retrain</c> starts, run in this process against the data directory's store.
/// Exit codes: 0 promoted, 2 registered as challenger but kept back, 3 another training holds the lock, 1 any other error.
/// </summary>
internal static class RetrainCommand
{
    public const int KeptBack = 2;
    public const int Locked = 3;

    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "Registered model name.", DefaultValueFactory = _ => "churn" };
        var reference = new Option<string?>("--reference")
        {
            Description = "Reference data CSV (default: the champion's training file under <data-dir>/data, as the server uses).",
        };
        var margin = new Option<double?>("--margin")
        {
            Description = "AUC by which the challenger must beat the champion (default: the store's model.promotion_margin, else 0.005).",
        };
        var seed = new Option<int?>("--seed") { Description = "Training seed (default: from the clock)." };
        var reason = new Option<string>("--reason") { Description = "Why, recorded on the run.", DefaultValueFactory = _ => "requested from the command line" };
        var json = CommonOptions.Json();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("retrain",
            "Train a challenger on the reference data plus labelled feedback; promote it only if it beats the champion by the margin. " +
            "Exit 0 promoted, 2 kept back, 3 another training is under way.")
        {
            name, reference, margin, seed, reason, json, dataDir,
        };
        command.SetAction(async (parse, ct) =>
        {
            var promoted = false;
            await StoreAccess.RunAsync(async () => promoted = await RunAsync(parse, name, reference, margin, seed, reason, json, dataDir, ct));
            return promoted ? 0 : KeptBack;
        });
        return command;
    }

    private static async Task<bool> RunAsync(
        ParseResult parse, Option<string> name, Option<string?> reference, Option<double?> margin, Option<int?> seed, Option<string> reason,
        Option<bool> json, Option<string?> dataDir, CancellationToken ct)
    {
        using var store = await StoreAccess.OpenAsync(parse.GetValue(dataDir), ct);
        var model = parse.GetValue(name)!;
        var champion = await store.Registry.ResolveAliasAsync(model, ModelAliases.Champion, ct)
            ?? throw new CliException($"model '{model}' has no champion in the store at {store.DataDir}: train one with 'churn train --promote'.");
        var championModel = ChurnModel.Load(store.Registry.PackagePath(champion, verifySha256: true));
        var referencePath = parse.GetValue(reference) is { } given
            ? (File.Exists(given) ? Path.GetFullPath(given) : throw new CliException($"--reference: no such file {given}."))
            : ChallengerRetraining.FindReference(store.DataDir, championModel.Card)
                ?? throw new CliException($"no reference data: the champion's training file '{championModel.Card.DataSource}' is not under {Path.Combine(store.DataDir, "data")}; give --reference FILE.");
        var promotionMargin = parse.GetValue(margin) ?? await StoredMarginAsync(store, ct);
        if (promotionMargin is < 0 or > 1)
        {
            throw new CliException("--margin must be between 0 and 1.");
        }

        var locks = new StoreLock(store.Contexts, TimeProvider.System);
        var retraining = new ChallengerRetraining(store.Runs, store.Registry, store.Contexts, locks, TimeProvider.System);
        var user = Environment.UserName;
        var order = new ChallengerOrder(RunTrigger.User, user, parse.GetValue(reason)!, referencePath, Seed: parse.GetValue(seed));
        RetrainOutcome outcome;
        try
        {
            outcome = await retraining.RunAsync(
                new RetrainChampion(model, champion.Version, championModel),
                order,
                promotionMargin,
                $"{Environment.MachineName}:{Environment.ProcessId}:cli",
                (version, why, token) => store.Registry.PromoteAsync(model, version, ModelAliases.Champion, user, why, token),
                progress: null,
                ct);
        }
        catch (TrainingLockedException ex)
        {
            throw new CliException(ex.Message, Locked);
        }
        await StoreAccess.MirrorAsync(store);

        if (parse.GetValue(json))
        {
            StoreAccess.WriteJson(new
            {
                model,
                version = outcome.Version,
                promoted = outcome.Promoted,
                championVersion = champion.Version,
                championAuc = outcome.ChampionAuc,
                challengerAuc = outcome.ChallengerAuc,
                margin = promotionMargin,
                heldOutRows = outcome.HeldOutRows,
                feedbackRows = outcome.FeedbackRows,
                reference = referencePath,
                message = outcome.Message,
            });
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(outcome.Message));
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Trained on {Path.GetFileName(referencePath)} plus {outcome.FeedbackRows} labelled feedback rows; compared on {outcome.HeldOutRows} held-out rows.")));
        }
        return outcome.Promoted;
    }

    /// <summary>The margin the server would use: the stored runtime setting when an operator changed it, else the default.</summary>
    private static async Task<double> StoredMarginAsync(Churn.Data.Store.ChurnStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Settings.AsNoTracking().SingleOrDefaultAsync(s => s.Key == "model.promotion_margin", ct);
        return row is not null && JsonSerializer.Deserialize<double?>(row.ValueJson) is { } stored ? stored : ChallengerRetraining.DefaultPromotionMargin;
    }
}
