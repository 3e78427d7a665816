using Churn.Core.Data;
using Churn.Core.Scoring;
using Churn.Server.Jobs;
using Churn.Server.Models;

namespace Churn.Server.Tests;

/// <summary>File scoring through <c>/jobs/score</c>: streamed, batched and parallel, yet the same as scoring each row in process.</summary>
[Collection(ServerCollection.Name)]
public sealed class FileScoringTests(ServerFixture server) : RoleClientTests(server)
{
    [Fact]
    public async Task AFileScoredWhileItUploadsEqualsScoringEveryRowInProcessInOrder()
    {
        // Several pieces and a partial last one, with rows that cannot be scored, unseen categories and ids that need
        // quoting, some holding a line break (which must not end a piece).
        var rows = RowsFilling(4.5 * ScoringJob.PieceBytes);
        var csv = Spoil(Bodies.Csv(rows, seed: 21));

        // Sent in small pieces with pauses, so the job reads the file while it is still arriving.
        var started = await Analyst.PostAsync("/jobs/score", new PacedContent(Encoding.UTF8.GetBytes(csv), chunk: 8 * 1024, pause: TimeSpan.FromMilliseconds(3)));

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await BackgroundJobs.FinishedAsync(Analyst, (await started.ReadObjectAsync())["id"]!.GetValue<string>());
        Assert.Equal("Succeeded", job["status"]!.GetValue<string>());
        var serving = Server.Factory.Services.GetRequiredService<ModelHost>().Require();
        Assert.Equal(serving.Version, job["modelVersion"]!.GetValue<int>());
        var result = await (await Analyst.GetAsync($"/jobs/{job["id"]}/result")).Content.ReadAsStringAsync();

        using var actual = new CsvReader(new StringReader(result), "result");
        Assert.Equal(new[] { "row", "customerId", "churnProbability", "willChurn", "riskTier", "unseenCategories", "error" }, actual.Header);
        using var input = new CsvReader(new StringReader(csv), "input");
        var columns = serving.Schema.Features.Select(f => input.ColumnIndex(f.Name)).ToArray();
        var idColumn = input.ColumnIndex(serving.Schema.IdColumn!);
        var values = new FeatureValue[columns.Length];
        var row = 0;
        int failed = 0, unseen = 0;
        while (input.Read())
        {
            row++;
            Assert.True(actual.Read(), $"The result ends before row {row}.");
            var cells = actual.Current;
            Assert.Equal(row.ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(input.Current[idColumn], cells[1]);
            for (var f = 0; f < columns.Length; f++)
            {
                values[f] = FeatureValue.Of(input.Current[columns[f]]);
            }
            ScoreResult expected;
            try
            {
                expected = serving.Scorer.Score(values, reasons: 0);
            }
            catch (FeatureValueException ex)
            {
                failed++;
                Assert.Equal(new string?[] { null, null, null, null, ex.Message }, cells[2..]);
                continue;
            }
            // The same number to the last bit: "R" round-trips a double exactly.
            Assert.Equal(expected.Probability, double.Parse(cells[2]!, CultureInfo.InvariantCulture));
            Assert.Equal(expected.WillChurn ? "true" : "false", cells[3]);
            Assert.Equal(expected.RiskTier, cells[4]);
            Assert.Equal(expected.UnseenCategories.Count == 0 ? null : string.Join(';', expected.UnseenCategories), cells[5]);
            unseen += expected.UnseenCategories.Count > 0 ? 1 : 0;
            Assert.Null(cells[6]);
        }
        Assert.False(actual.Read(), "The result has more rows than the upload.");
        Assert.Equal(rows, row);
        Assert.True(failed > 0 && unseen > 0, $"The upload should hold rows that fail ({failed}) and rows with unseen categories ({unseen}).");
        Assert.Contains($"{failed} rows could not be scored", job["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWarmUpsFileRehearsalScoresEveryRowOfTheTypicalCustomerInManyPieces()
    {
        var serving = Server.Factory.Services.GetRequiredService<ModelHost>().Require();
        var jobs = Server.Factory.Services.GetRequiredService<ScoringJob>();
        var file = ScoringJob.RehearsalFile(serving, 3_000);

        Assert.True(file.Length > 20 * ScoringJob.RehearsalPieceBytes, $"{file.Length} bytes make few pieces.");
        Assert.Equal(3_000, await jobs.RehearseAsync(serving, file, contributions: false, CancellationToken.None));
        Assert.True(serving.Scorer.Model.CanExplain);
        Assert.Equal(3_000, await jobs.RehearseAsync(serving, file, contributions: true, CancellationToken.None));
        // A file without the model's features is refused, not scored as rows of missing values.
        var foreign = Encoding.UTF8.GetBytes("a,b\n1,2\n");
        await Assert.ThrowsAsync<InvalidDataException>(() => jobs.RehearseAsync(serving, foreign, contributions: false, CancellationToken.None));
    }

    [Fact]
    public async Task AMalformedRecordDeepInALargeUploadFailsTheJobNamingItsLineInTheUpload()
    {
        var rows = RowsFilling(3.5 * ScoringJob.PieceBytes);
        var lines = Spoil(Bodies.Csv(rows, seed: 23)).Split('\n');
        // A record with a field too few, in the fourth piece: its line counts the quoted line breaks before it.
        var bad = lines.Length - (rows / 5);
        while (lines[bad].Contains('"') || lines[bad - 1].Contains('"'))
        {
            bad++;
        }
        lines[bad] = lines[bad][..lines[bad].LastIndexOf(',')];
        var expectedLine = bad + 1;

        var started = await Analyst.PostAsync("/jobs/score", new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await BackgroundJobs.FinishedAsync(Analyst, (await started.ReadObjectAsync())["id"]!.GetValue<string>());
        Assert.Equal("Failed", job["status"]!.GetValue<string>());
        Assert.Equal($"upload: line {expectedLine}, column {Bodies.Header.Count}: expected {Bodies.Header.Count} fields as in the header, found {Bodies.Header.Count - 1}.",
            job["error"]!.GetValue<string>());
    }

    /// <summary>Rows of generated customers that make a CSV of about <paramref name="bytes"/>.</summary>
    private static int RowsFilling(double bytes) => (int)(bytes / (Bodies.Csv(200, seed: 1).Length / 200.0));

    /// <summary>
    /// Every 997th row gets a tenure that is not a number, every 1,009th an unknown contract, the first row an id with
    /// a comma, and every 613th an id with a quote and a line break.
    /// </summary>
    private static string Spoil(string csv)
    {
        var lines = csv.Split('\n');
        var header = lines[0].Split(',');
        var tenure = Array.IndexOf(header, "tenureMonths");
        var contract = Array.IndexOf(header, "contract");
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }
            var cells = lines[i].Split(',');
            if (i % 997 == 0)
            {
                cells[tenure] = "a long time";
            }
            if (i % 1009 == 0)
            {
                cells[contract] = "Lifetime";
            }
            if (i == 1)
            {
                cells[0] = "\"ACME, Inc.\"";
            }
            if (i % 613 == 0)
            {
                cells[0] = $"\"{cells[0]}\n(was \"\"{i}\"\")\"";
            }
            lines[i] = string.Join(',', cells);
        }
        return string.Join('\n', lines);
    }

    /// <summary>A CSV body written in pieces with a pause between them, as a slow client sends it.</summary>
    private sealed class PacedContent : HttpContent
    {
        private readonly byte[] body;
        private readonly int chunk;
        private readonly TimeSpan pause;

        public PacedContent(byte[] body, int chunk, TimeSpan pause)
        {
            this.body = body;
            this.chunk = chunk;
            this.pause = pause;
            Headers.ContentType = new("text/csv");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += chunk)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(chunk, body.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(pause);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
