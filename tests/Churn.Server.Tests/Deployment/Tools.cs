using System.Diagnostics;

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

    /// <summary>The path of a command on PATH; fails the test with how to install it when it is missing.</summary>
    public static string Require(string command, string install)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, command))
            .FirstOrDefault(File.Exists);
        return found ?? throw new Xunit.Sdk.XunitException($"'{command}' is not installed, so this deployment check cannot run: {install}.");
    }

    /// <summary>Runs a command to completion (at most two minutes) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string file, IEnumerable<string> arguments, string? workingDirectory = null, IDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{file} {string.Join(' ', start.ArgumentList)} did not finish within two minutes.");
        }
        return (process.ExitCode, await output, await error);
    }
}
