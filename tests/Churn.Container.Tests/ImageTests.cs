namespace Churn.Container.Tests;

/// <summary>One container of the image, as a user runs it (a named volume at /data): health, serving, user, files, backup.</summary>
[Collection(ContainerCollection.Name)]
public sealed class ImageTests(ImageFixture image, ITestOutputHelper output)
{
    [EngineFact]
    public async Task TheHealthCheckTurnsHealthyAndPredictionsAreServed()
    {
        var node = await image.NodeAsync();

        // The image's own HEALTHCHECK command decided "healthy"; its last probe exited 0.
        Assert.Equal("healthy", await node.StateAsync("{{.State.Health.Status}}"));
        var probes = (await node.StateAsync("{{range .State.Health.Log}}{{.ExitCode}} {{end}}")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", probes[^1]);
        using var client = node.Client();
        var response = await client.PostAsync("/predict", ScaleFixture.PredictBody("image-check", 1));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, body["modelVersion"]!.GetValue<int>());
        Assert.InRange(body["churnProbability"]!.GetValue<double>(), 0, 1);
        output.WriteLine($"Base images {image.BaseImagesTime.TotalSeconds:F0} s, product image build {image.BuildTime.TotalSeconds:F0} s, image {image.ImageBytes / 1e6:F0} MB.");
    }

    [EngineFact]
    public async Task TheServerRunsAsTheNonRootUserAndWritesOnlyToTheDataVolume()
    {
        var node = await image.NodeAsync();

        Assert.Equal("app", await node.StateAsync("{{.Config.User}}"));
        var (_, status, _) = await node.ExecAsync("cat", "/proc/1/status");
        var uids = status.Split('\n').Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.All(uids, uid => Assert.Equal(ImageFixture.AppUid.ToString(System.Globalization.CultureInfo.InvariantCulture), uid));
        var (_, command, _) = await node.ExecAsync("cat", "/proc/1/cmdline");
        Assert.Contains("Churn.Server.dll", command, StringComparison.Ordinal);
        // Started through the published launcher (src/Churn.Server/launch.sh): the runtime's environment-only settings are set.
        var (_, environ, _) = await node.ExecAsync("cat", "/proc/1/environ");
        var variables = environ.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("DOTNET_GCgen0size=0x1000000", variables);
        Assert.Contains("MALLOC_ARENA_MAX=2", variables);

        // Everything the server wrote outside volumes: only the .NET runtime's debugger and diagnostics sockets in /tmp.
        var changes = (await image.Docker.CheckAsync(["diff", node.Name])).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        output.WriteLine($"docker diff:\n{string.Join('\n', changes)}");
        Assert.All(changes, change => Assert.Matches(@"^(C /tmp|A /tmp/(clr-debug-pipe-|dotnet-diagnostic-)[^/]+)$", change));
        var (_, dataFiles, _) = await node.ExecAsync("find", "/data", "-maxdepth", "1");
        Assert.Contains("/data/churn.db", dataFiles, StringComparison.Ordinal);
        Assert.Contains("/data/models", dataFiles, StringComparison.Ordinal);
        var (_, foreign, _) = await node.ExecAsync("find", "/data", "!", "-user", "app");
        Assert.Equal("", foreign.Trim());
    }

    [EngineFact]
    public async Task ABackupTakenInsideTheContainerIsRestoredByTheCommandOnTheHost()
    {
        var node = await image.NodeAsync();
        using var hostDir = new TempDirectory("churn-container-backup");
        var host = hostDir.Path;
        // As docs/operations.md says to, while the server serves (its prediction journal is open), twice into /data/backups.
        foreach (var name in new[] { "first", "second" })
        {
            var backup = await node.ExecAsync("churn", "backup", "--out", $"/data/backups/{name}.zip");
            Assert.True(backup.ExitCode == 0, $"churn backup exited with {backup.ExitCode}: {backup.Error}{backup.Output}");
        }
        var (_, inside, _) = await node.ExecAsync("churn", "models", "list", "--json");
        await node.CopyOutAsync("/data/backups/second.zip", Path.Combine(host, "backup.zip"));
        using (var archive = System.IO.Compression.ZipFile.OpenRead(Path.Combine(host, "backup.zip")))
        {
            var entries = archive.Entries.Select(e => e.FullName).ToList();
            Assert.Contains(entries, e => e.StartsWith("files/models/", StringComparison.Ordinal));
            Assert.DoesNotContain(entries, e => e.Contains("backups/", StringComparison.Ordinal) || e.Contains("journal/", StringComparison.Ordinal));
        }

        var restored = Path.Combine(host, "restored");
        var restore = await HostCli.RunAsync("restore", Path.Combine(host, "backup.zip"), "--data-dir", restored);
        Assert.True(restore.ExitCode == 0, $"churn restore exited with {restore.ExitCode}: {restore.Error}{restore.Output}");
        var listed = await HostCli.RunAsync("models", "list", "--json", "--data-dir", restored);
        Assert.True(listed.ExitCode == 0, listed.Error);

        // The same versions, files (SHA-256) and aliases on the host as in the container.
        Assert.Equal(JsonNode.Parse(inside)!["versions"]!.ToJsonString(), JsonNode.Parse(listed.Output)!["versions"]!.ToJsonString());
        Assert.NotEmpty(JsonNode.Parse(listed.Output)!["versions"]!.AsArray());
    }

    [EngineFact]
    public async Task UnderAShortLoadEveryPredictionIsAnsweredAndMemoryStaysWellUnderAGigabyte()
    {
        var node = await image.NodeAsync();
        var before = await node.MemoryAsync();
        using var client = node.Client();
        var started = DateTime.UtcNow;
        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < 150; i++)
            {
                codes.Add((await client.PostAsync("/predict", ScaleFixture.PredictBody($"load-{worker}-{i}", worker * 1000 + i))).StatusCode);
            }
            return codes;
        }));
        var elapsed = DateTime.UtcNow - started;
        var after = await node.MemoryAsync();
        var used = after.Split('/')[0].Trim();

        output.WriteLine($"1200 predictions from 8 clients in {elapsed.TotalSeconds:F1} s; memory {before.Trim()} before, {after.Trim()} after; image {image.ImageBytes / 1e6:F0} MB.");
        Assert.All(statuses.SelectMany(s => s), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(MiB(used) < 1024, $"The container uses {used} after the load.");
        Assert.True(image.ImageBytes < 1_000_000_000, $"The image is {image.ImageBytes} bytes.");
    }

    /// <summary>A size as docker stats prints it (<c>312.4MiB</c>, <c>1.2GiB</c>) in MiB.</summary>
    private static double MiB(string size)
    {
        var units = new[] { ("GiB", 1024.0), ("MiB", 1.0), ("KiB", 1 / 1024.0), ("B", 1 / 1048576.0) };
        var (unit, factor) = units.First(u => size.EndsWith(u.Item1, StringComparison.Ordinal));
        return double.Parse(size[..^unit.Length], System.Globalization.CultureInfo.InvariantCulture) * factor;
    }
}
