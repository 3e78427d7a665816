namespace Churn.Server.Tests.Deployment;

/// <summary>The Dockerfile, linted. Churn.Container.Tests builds and runs it under a real engine (docs/operations.md says what was and was not run).</summary>
public sealed class DockerfileTests
{
    private static string Dockerfile => Path.Combine(Tools.RepoRoot, "Dockerfile");

    [Fact]
    public async Task TheDockerfilePassesTheLinter()
    {
        var (code, output, error) = await LintAsync(Dockerfile);

        Assert.True(code == 0, $"dockerfile-utils lint found problems:\n{output}{error}");
    }

    [Fact]
    public async Task TheLinterRefusesADockerfileWithAMistypedFlag()
    {
        var broken = Scratch.NewFilePath(".Dockerfile");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Dockerfile)).Replace("--start-period=", "--start-perod=", StringComparison.Ordinal));
        try
        {
            var (code, output, _) = await LintAsync(broken);

            Assert.NotEqual(0, code);
            Assert.Contains("start-perod", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void TheRuntimeStageRunsAsTheNonRootUserWithTheDataDirectoryAsAVolume()
    {
        var runtime = File.ReadAllText(Dockerfile).Split("AS runtime", 2)[1];
        var lines = runtime.Split('\n').Select(l => l.Trim()).ToList();

        Assert.Contains("USER app", lines);
        Assert.Contains("VOLUME [\"/data\"]", lines);
        Assert.Contains("Churn__DataDir=/data \\", lines);
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.True(lines.IndexOf("USER app") < lines.FindIndex(l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal)), "USER must come before ENTRYPOINT.");
    }

    /// <summary>The HEALTHCHECK's command as a shell would run it, with the container's port replaced by <paramref name="port"/>.</summary>
    public static string HealthCheckCommand(int port)
    {
        var text = File.ReadAllText(Dockerfile).Replace("\\\n", " ", StringComparison.Ordinal);
        var line = text.Split('\n').Single(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        var command = line[(line.IndexOf(" CMD ", StringComparison.Ordinal) + 5)..].Trim();
        Assert.Contains("http://127.0.0.1:8080/health", command, StringComparison.Ordinal);
        return command.Replace("127.0.0.1:8080", $"127.0.0.1:{port}", StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output, string Error)> LintAsync(string file)
    {
        if (!File.Exists(Tools.DockerfileLinter))
        {
            Assert.Fail($"The Dockerfile linter is not installed at {Tools.DockerfileLinter}: ./test.sh installs it "
                + "(npm install --prefix .build/tools dockerfile-utils@0.16.3).");
        }
        return Tools.RunAsync(Tools.DockerfileLinter, ["lint", file]);
    }
}
