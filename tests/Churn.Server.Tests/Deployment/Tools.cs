namespace Churn.Server.Tests.Deployment;

/// <summary>The checkout the tests run from and the external tools the deployment checks call.</summary>
internal static class Tools
{
    /// <summary>The repository root: the nearest parent of the test binaries that holds Churn.slnx.</summary>
    public static string RepoRoot { get; } = RepositoryRoot.Require();

    public static string DeployDir => Path.Combine(RepoRoot, "deploy");

    public static string ComposeFile => Path.Combine(DeployDir, "docker-compose.yml");

    /// <summary>Where test.sh installs the pinned Dockerfile linter (npm, local prefix).</summary>
    public static string DockerfileLinter => Path.Combine(RepoRoot, ".build", "tools", "node_modules", ".bin", "dockerfile-utils");

    /// <summary>Runs a command to completion (at most two minutes, its input closed) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string file, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = ChildProcesses.StartInfo(file, arguments, environment, workingDirectory ?? RepoRoot);
        start.RedirectStandardInput = true;
        return await ChildProcesses.RunAsync(start, TimeSpan.FromMinutes(2));
    }
}
