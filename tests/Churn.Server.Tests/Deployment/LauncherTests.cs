using System.Text.RegularExpressions;

namespace Churn.Server.Tests.Deployment;

/// <summary>
/// src/Churn.Server/launch.sh, the launcher the image, the ./churn wrapper and bench/run.sh start the server through: it
/// sets the runtime's environment-only settings unless the environment already has them, then runs its arguments.
/// Churn.Container.Tests checks that the image's server process has them.
/// </summary>
public sealed class LauncherTests
{
    private static string Launcher => Path.Combine(Tools.RepoRoot, "src", "Churn.Server", "launch.sh");

    /// <summary>Unset, each variable gets the launcher's default; set by an operator, it is kept.</summary>
    [Theory]
    [InlineData(null, null, "0x1000000", "2")]
    [InlineData("0x4000000", "4", "0x4000000", "4")]
    public async Task TheLauncherSetsTheGen0BudgetAndTheArenaLimitUnlessTheyAreSetAndRunsItsArguments(
        string? gen0Before, string? arenasBefore, string gen0After, string arenasAfter)
    {
        var (code, output, error) = await Tools.RunAsync(Launcher, ["env"], environment: new Dictionary<string, string?>
        {
            ["DOTNET_GCgen0size"] = gen0Before,
            ["MALLOC_ARENA_MAX"] = arenasBefore,
        });

        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains($"DOTNET_GCgen0size={gen0After}", lines);
        Assert.Contains($"MALLOC_ARENA_MAX={arenasAfter}", lines);
    }

    /// <summary>The server's check for a start without the launcher names exactly the variables the launcher sets.</summary>
    [Fact]
    public void TheServerLooksForTheVariablesTheLauncherSets()
    {
        var set = Regex.Matches(File.ReadAllText(Launcher), @"^: ""\$\{(\w+):=", RegexOptions.Multiline).Select(m => m.Groups[1].Value);

        Assert.Equal(set, Churn.Server.Hosting.ProcessMemory.LauncherSettings);
    }

    [Fact]
    public async Task TheCommandsExitCodeIsTheLaunchersOwn()
    {
        var (code, _, _) = await Tools.RunAsync(Launcher, ["sh", "-c", "exit 7"]);

        Assert.Equal(7, code);
    }

    [Fact]
    public void ThePublishedServerCarriesTheLauncherAndTheImageStartsThroughIt()
    {
        var project = File.ReadAllText(Path.Combine(Tools.RepoRoot, "src", "Churn.Server", "Churn.Server.csproj"));
        var dockerfile = File.ReadAllText(Path.Combine(Tools.RepoRoot, "Dockerfile"));

        Assert.Contains("<None Update=\"launch.sh\" CopyToOutputDirectory=\"Never\" CopyToPublishDirectory=\"PreserveNewest\" />", project, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"/app/launch.sh\", \"dotnet\", \"/app/Churn.Server.dll\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("exec /app/launch.sh dotnet /app/churn.dll", dockerfile, StringComparison.Ordinal);
    }
}
