using Churn.Core.Generation;
using Churn.Core.Survival;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Survival;
using Churn.Data.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Churn.Testing;

/// <summary>
/// Time-to-churn data from the seeded generator: tenure as the duration, churn as the event (customers who stayed are
/// censored), monthly charges as the value per month, and total charges (tenure × monthly charges) left out because it
/// reveals the duration.
/// </summary>
public static class GeneratedSurvival
{
    /// <summary>The survival schema of generated customers.</summary>
    public static SurvivalSchema Schema { get; } = new()
    {
        Data = CustomerGenerator.Schema with
        {
            Features = [.. CustomerGenerator.Schema.Features.Where(f => f.Name is not ("tenureMonths" or "totalCharges"))],
            Drop = ["totalCharges"],
        },
        DurationColumn = "tenureMonths",
        ValueColumn = "monthlyCharges",
    };

    /// <summary>Reads <paramref name="rows"/> generated customers as survival data.</summary>
    public static SurvivalData Data(int rows, int seed)
    {
        var file = Scratch.NewFilePath(".csv");
        File.WriteAllText(file, GeneratedCustomers.Csv(rows, seed));
        try
        {
            return SurvivalData.Load(file, Schema);
        }
        finally
        {
            Scratch.Delete(file);
        }
    }

    /// <summary>A survival model (the default boosted method) trained on <paramref name="rows"/> generated customers, with its card.</summary>
    public static SurvivalModel Train(int rows = 3000, int seed = 5) => SurvivalTrainer.Train(Data(rows, seed), new SurvivalOptions()).Model;

    /// <summary>
    /// Registers <paramref name="model"/> under the default survival model name and promotes it to champion, recorded as
    /// a run by <paramref name="actor"/>, with the registry of the server whose <paramref name="services"/> run over
    /// <paramref name="dataDir"/> (as <c>churn survival train --promote</c> does); returns the version.
    /// </summary>
    public static async Task<int> RegisterChampionAsync(IServiceProvider services, string dataDir, SurvivalModel model, string actor)
    {
        var outcome = await RecordedTraining.RunAsync(services.GetRequiredService<RunTracker>(), services.GetRequiredService<ModelRegistry>(),
            services.GetRequiredService<ModelChanges>(), dataDir, SurvivalOptions.DefaultModelName, RunTrigger.User, new AuditActor(actor, null),
            promote: true, new Dictionary<string, string>(), model.Card.DataFingerprint, _ => model, SurvivalRegistration.Packaging);
        return outcome.Version.Version;
    }
}
