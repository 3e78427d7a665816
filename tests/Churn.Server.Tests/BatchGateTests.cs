namespace Churn.Server.Tests;

/// <summary>
/// The batch gate over real HTTP: with one turn and room for one waiting request, a batch whose body is still arriving
/// holds the turn, the next waits for it, and one more is refused with 503 and a time to try again; the waiting one is
/// then scored as if it had been alone. A request that waits longer than <c>api.timeout</c> gets 504.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BatchGateTests(ServerFixture server)
{
    [Fact]
    public async Task ABatchWaitsForTheTurnAnotherHoldsAndOneMoreThanTheQueueHoldsIsRefusedWithRetryAfter()
    {
        await using var gated = await GatedServer.StartAsync(server, queueLimit: 1);
        var (http, release) = (gated.Http, gated.Release);
        var body = new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(5, seed: 3).Select(c => (JsonNode)c)]) }.ToJsonString();
        var alone = await http.PostAsync("/predict/batch", Bodies.Json(body));
        Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
        var expected = Probabilities(await alone.ReadObjectAsync());

        // The holder's body stops halfway until released: it has taken the turn (the gate is passed before the body is read).
        var holder = http.PostAsync("/predict/batch", new HeldContent(body, release.Task).Typed());
        await Wait.UntilAsync(async () => await GaugeAsync(http, "churn_batch_running", gated) == 1, TimeSpan.FromMinutes(1), "the held batch to take the turn");
        var waiting = http.PostAsync("/predict/batch", Bodies.Json(body));
        await Wait.UntilAsync(async () => await GaugeAsync(http, "churn_batch_waiting", gated) == 1, TimeSpan.FromMinutes(1), "the next batch to wait");
        var refused = await http.PostAsync("/predict/batch", Bodies.Json(body));

        refused.AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("Churn:BatchQueueLimit", (string?)(await refused.ReadObjectAsync())["detail"], StringComparison.Ordinal);
        Assert.False(waiting.IsCompleted, "a request went past the gate while another held its only turn");
        // MLflow's invocations share the gate (as does V2 inference); the single /predict is not behind it.
        var records = new JsonObject { ["dataframe_records"] = new JsonArray([.. Bodies.Customers(2, seed: 4).Select(c => c["features"]!.DeepClone())]) };
        (await http.PostAsync("/invocations", Bodies.Json(records))).AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);

        release.SetResult();
        var held = await holder;
        var queued = await waiting;
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal(HttpStatusCode.OK, queued.StatusCode);
        Assert.Equal(expected, Probabilities(await held.ReadObjectAsync()));
        Assert.Equal(expected, Probabilities(await queued.ReadObjectAsync()));
    }

    /// <summary>
    /// A gauge of the gate, as <c>/metrics</c> shows it: the series labelled with this server's gate settings (one
    /// permit, its queue limit), since other servers of this test process export the same names.
    /// </summary>
    private static async Task<double> GaugeAsync(HttpClient http, string name, GatedServer gated)
    {
        var labels = $"permits=\"1\",queue_limit=\"{gated.QueueLimit}\"";
        var line = (await http.GetStringAsync("/metrics")).Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ABatchWaitingLongerThanTheRequestTimeoutGets504AndTheHolderIsNotDisturbed()
    {
        await using var gated = await GatedServer.StartAsync(server, queueLimit: 7);
        var (http, release) = (gated.Http, gated.Release);
        var body = new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(3, seed: 5).Select(c => (JsonNode)c)]) }.ToJsonString();

        // The holder started under the default api.timeout (30 s); the next request runs under 1 s.
        var holder = http.PostAsync("/predict/batch", new HeldContent(body, release.Task).Typed());
        await Wait.UntilAsync(async () => await GaugeAsync(http, "churn_batch_running", gated) == 1, TimeSpan.FromMinutes(1), "the held batch to take the turn");
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync("/config", Bodies.Json("""{"api": {"timeout": "00:00:01"}}"""))).StatusCode);

        var late = await http.PostAsync("/predict/batch", Bodies.Json(body));

        late.AssertProblem(HttpStatusCode.GatewayTimeout);
        Assert.Equal(0, await GaugeAsync(http, "churn_batch_waiting", gated));
        Assert.False(holder.IsCompleted, "the held request ended while it held the turn");
        release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await holder).StatusCode);
    }

    /// <summary>A real Kestrel over a clone of the fixture's data folder, one batch at a time, with an admin client and a release for held bodies.</summary>
    private sealed class GatedServer : IAsyncDisposable
    {
        private readonly StoreDirectory dataDir;
        private readonly CancellationTokenSource stop = new();
        private Task<int> run = Task.FromResult(0);

        private GatedServer(StoreDirectory dataDir, int port)
        {
            this.dataDir = dataDir;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        }

        public HttpClient Http { get; }

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The <c>Churn:BatchQueueLimit</c> it was started with.</summary>
        public int QueueLimit { get; private init; }

        /// <param name="fixture">Whose trained data folder is cloned.</param>
        /// <param name="queueLimit">Batches that may wait; a value no other server of the test process uses.</param>
        public static async Task<GatedServer> StartAsync(ServerFixture fixture, int queueLimit)
        {
            var port = LoopbackPorts.Free();
            var gated = new GatedServer(fixture.CloneDataDir(), port) { QueueLimit = queueLimit };
            gated.run = ChurnServer.RunAsync(
                [$"--urls=http://127.0.0.1:{port}", $"--Churn:DataDir={gated.dataDir.Path}", "--Churn:WarmUpRows=20", "--Churn:RequestWarmUpSeconds=0",
                    "--Churn:BatchConcurrency=1", $"--Churn:BatchQueueLimit={queueLimit}", "--Churn:Api:rate_limit=1000000", "--Logging:LogLevel:Default=Warning"],
                TextWriter.Null, gated.stop.Token);
            await Polling.UntilReadyAsync(gated.run, async () => (await gated.Http.GetAsync("/health/live")).IsSuccessStatusCode, "The server");
            gated.Http.DefaultRequestHeaders.Add("X-API-Key", TestSecrets.AdminKey);
            return gated;
        }

        public async ValueTask DisposeAsync()
        {
            Release.TrySetResult();
            await stop.CancelAsync();
            await run;
            Http.Dispose();
            stop.Dispose();
            dataDir.Dispose();
        }
    }

    private static List<double> Probabilities(JsonObject response) =>
        [.. response["predictions"]!.AsArray().Select(p => p!["churnProbability"]!.GetValue<double>())];

    /// <summary>A JSON body of known length sent in two halves, the second only once <paramref name="release"/> completes.</summary>
    private sealed class HeldContent(string json, Task release) : HttpContent
    {
        private readonly byte[] bytes = Encoding.UTF8.GetBytes(json);

        public HeldContent Typed()
        {
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return this;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = bytes.Length / 2;
            await stream.WriteAsync(bytes.AsMemory(0, half));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(bytes.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
