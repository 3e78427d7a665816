using System.Diagnostics;

namespace Churn.Container.Tests.Fixtures;

/// <summary>
/// The product image, built for real: a Docker engine of the tests' own, the local base images made by
/// <c>deploy/local-base.sh</c> (reused while their inputs are unchanged) and <c>docker build</c> of the repository's
/// Dockerfile with those bases. Every container the tests start carries the label <c>churn.test</c> and is removed at
/// the end; then the engine is stopped.
/// </summary>
public sealed class ImageFixture : IAsyncLifetime
{
    /// <summary>Set to <c>required</c> (CI does) to make an engine that cannot start a failure instead of a skip.</summary>
    public const string RequiredVariable = "CHURN_CONTAINER_TESTS";

    public const string Image = "churn-test:latest";

    public const string BasePrefix = "churn-local";

    /// <summary>The image's non-root user (the official .NET images' <c>app</c>).</summary>
    public const int AppUid = 1654;

    private Task<ChurnContainer>? node;

    internal DockerEngine Docker { get; private set; } = null!;

    /// <summary>The checkout the image is built from: the nearest parent of the test binaries holding Churn.slnx.</summary>
    public static string RepoRoot { get; } = RepositoryRoot.Require();

    /// <summary>The product image's size as the engine reports it, in bytes.</summary>
    public long ImageBytes { get; private set; }

    public TimeSpan BaseImagesTime { get; private set; }

    public TimeSpan BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        if (DockerEngine.Unavailable is { } reason)
        {
            if (Environment.GetEnvironmentVariable(RequiredVariable) == "required")
            {
                throw new InvalidOperationException($"{RequiredVariable}=required, but {reason}");
            }
            return;
        }
        Docker = await DockerEngine.StartAsync(DockerEngine.FolderFor(RepoRoot));
        try
        {
            await RemoveTestContainersAsync();
            var clock = Stopwatch.StartNew();
            var (code, output, error) = await DockerEngine.Run("/bin/bash", [Path.Combine(RepoRoot, "deploy", "local-base.sh"), BasePrefix],
                TimeSpan.FromMinutes(20), new Dictionary<string, string>
                {
                    ["DOCKER_HOST"] = Docker.Host,
                    ["PATH"] = $"{Path.GetDirectoryName(Docker.Client)}:{Environment.GetEnvironmentVariable("PATH")}",
                });
            if (code != 0)
            {
                throw new InvalidOperationException($"deploy/local-base.sh exited with {code}:\n{error}\n{output}");
            }
            BaseImagesTime = clock.Elapsed;
            clock.Restart();
            await Docker.CheckAsync(["build", "--network", "host", "--build-arg", $"SDK_IMAGE={BasePrefix}/sdk:10.0",
                "--build-arg", $"RUNTIME_IMAGE={BasePrefix}/aspnet:10.0", "-t", Image, RepoRoot], TimeSpan.FromMinutes(40));
            BuildTime = clock.Elapsed;
            // Images left untagged by earlier builds, older than a day: the engine's folder does not grow run after run, and
            // the build stage's layers of recent builds (untagged too, as no image descends from them) stay as the cache.
            await Docker.RunAsync(["image", "prune", "-f", "--filter", "until=24h"]);
            ImageBytes = long.Parse((await Docker.CheckAsync(["image", "inspect", "--format", "{{.Size}}", Image])).Trim(), CultureInfo.InvariantCulture);
        }
        catch
        {
            await Docker.DisposeAsync();
            throw;
        }
    }

    /// <summary>One node on a fresh named volume, started once and shared by the tests that only look at it.</summary>
    internal Task<ChurnContainer> NodeAsync() => node ??= StartNodeAsync();

    /// <summary>A new named volume labelled <c>churn.test</c>, removed at the end.</summary>
    internal async Task<string> VolumeAsync()
    {
        var name = $"churn-test-{Guid.NewGuid():N}"[..24];
        await Docker.CheckAsync(["volume", "create", "--label", "churn.test=1", name]);
        return name;
    }

    /// <summary>A host folder for /data, owned by the image's user as a named volume would be; removed when disposed.</summary>
    internal static async Task<StoreDirectory> HostDataDirAsync()
    {
        var dir = new StoreDirectory("churn-container");
        await DockerEngine.Run("chown", [$"{AppUid}:{AppUid}", dir.Path], TimeSpan.FromSeconds(30));
        return dir;
    }

    public async Task DisposeAsync()
    {
        if (Docker is null)
        {
            return;
        }
        try
        {
            await RemoveTestContainersAsync();
        }
        finally
        {
            await Docker.DisposeAsync();
        }
    }

    /// <summary>Removes every container and volume labelled <c>churn.test</c>: this run's, or those of a run whose test host died.</summary>
    private async Task RemoveTestContainersAsync()
    {
        var ids = (await Docker.RunAsync(["ps", "-aq", "--filter", "label=churn.test"])).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length > 0)
        {
            await Docker.RunAsync(["rm", "-f", "-v", .. ids]);
        }
        await Docker.RunAsync(["volume", "prune", "-f", "--filter", "label=churn.test"]);
    }

    private async Task<ChurnContainer> StartNodeAsync() => await ChurnContainer.RunHealthyAsync(Docker, await VolumeAsync());
}

/// <summary>Skipped, with the reason, only when this machine cannot start a Docker engine (and CI has not required it).</summary>
public sealed class EngineFactAttribute : FactAttribute
{
    public EngineFactAttribute()
    {
        if (DockerEngine.Unavailable is { } reason && Environment.GetEnvironmentVariable(ImageFixture.RequiredVariable) != "required")
        {
            Skip = $"No Docker engine can be started here: {reason}";
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ContainerCollection : ICollectionFixture<ImageFixture>
{
    public const string Name = "container";
}
