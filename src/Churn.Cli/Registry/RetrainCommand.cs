using System.ComponentModel.DataAnnotations;
using Churn.Core.Retraining;
using Churn.Data;
using Churn.Data.Retraining;
using Churn.Data.Security;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Churn.Server.Settings;
using Microsoft.Extensions.Configuration;

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
        var name = CommonOptions.ModelName(Core.Training.TrainingOptions.DefaultModelName);
        var reference = new Option<string?>("--reference")
        {
            Description = "Reference data CSV (default: the champion's training file under <data-dir>/data, as the server uses).",
        };
        var margin = new Option<double?>("--margin")
        {
            Description = "AUC by which the challenger must beat the champion (default: model.promotion_margin as a server on this store uses it, else 0.005).",
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
            : Retrainer.FindReference(store.DataDir, championModel.Card)
                ?? throw new CliException($"no reference data: the champion's training file '{championModel.Card.DataSource}' is not under {Path.Combine(store.DataDir, "data")}; give --reference FILE.");
        var promotionMargin = parse.GetValue(margin) ?? await ConfiguredMarginAsync(store, ct);
        if (promotionMargin is < 0 or > 1)
        {
            throw new CliException("--margin must be between 0 and 1.");
        }

        var order = new RetrainOrder(RunTrigger.User, AuditActor.ThisMachine(), parse.GetValue(reason)!, parse.GetValue(seed), referencePath);
        RetrainOutcome outcome;
        try
        {
            outcome = await store.Retrainer.RunLockedAsync(
                TrainingLock.CommandHolder(), new RetrainChampion(model, champion.Version, championModel), order, new PromotionPolicy(promotionMargin),
                swap: null, progress: null, ct);
        }
        catch (TrainingLockedException ex)
        {
            throw new CliException(ex.Message, Locked);
        }
        await StoreAccess.MirrorAsync(store);

        var decision = outcome.Decision;
        if (parse.GetValue(json))
        {
            StoreAccess.WriteJson(new
            {
                model,
                version = outcome.Version,
                promoted = outcome.Promoted,
                championVersion = champion.Version,
                championAuc = decision.Champion,
                challengerAuc = decision.Challenger,
                margin = decision.Margin,
                heldOutRows = decision.HeldOutRows,
                feedbackRows = outcome.FeedbackRows,
                reference = referencePath,
                message = outcome.Message,
            });
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(outcome.Message));
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Trained on {Path.GetFileName(referencePath)} plus {outcome.FeedbackRows} labelled feedback rows; compared on {decision.HeldOutRows} held-out rows.")));
        }
        return outcome.Promoted;
    }

    /// <summary>
    /// The margin a server on this store would use: <c>model.promotion_margin</c> from the one settings model (the
    /// environment's Churn__Model__promotion_margin over the default, then the value stored through the API or dashboard).
    /// </summary>
    private static async Task<double> ConfiguredMarginAsync(ChurnStore store, CancellationToken ct)
    {
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            return (await RuntimeSettings.LoadAsync(store.Contexts, store.Audit, configuration, ct)).Model.PromotionMargin;
        }
        catch (ValidationException ex)
        {
            throw new CliException($"the environment's {SettingsRegistration.ModelSection.Replace(":", "__", StringComparison.Ordinal)} settings are not valid: {ex.Message}");
        }
    }
}
