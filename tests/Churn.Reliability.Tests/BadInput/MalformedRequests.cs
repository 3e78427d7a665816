namespace Churn.Reliability.Tests.BadInput;

/// <summary>One generated request: what it is, and whether it can be valid (a generator flags the ones that never are).</summary>
public sealed record BadRequest(string Method, string Path, byte[]? Body, string? ContentType, string Kind)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Method), Path);
        if (Body is not null)
        {
            var content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
            message.Content = content;
            // Large bodies wait for the server's go-ahead: a body over the limit is then refused with a response
            // rather than by closing the connection under a half-sent body.
            message.Headers.ExpectContinue = Body.Length > 64 * 1024;
        }
        return message;
    }

    public override string ToString()
    {
        var body = Body is null ? "" : Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(Body.Length, 300)));
        return $"{Method} {Path} [{Kind}] ({ContentType}) {body}";
    }
}

/// <summary>
/// A seeded generator of malformed requests for every operation of the API: broken and hostile JSON (wrong types, huge
/// numbers, NaN and Infinity, deep nesting, long and odd unicode strings, missing and extra fields, duplicate keys,
/// invalid UTF-8, byte-order marks), empty and oversized batches, wrong content types, bad path and query values, CSV
/// uploads with ragged rows, broken quoting, bad encodings and formula-injection cells, and for the scoring protocols
/// their own faults: repeated features and columns, every MLflow input shape with junk and Python's NaN tokens, V2
/// tensors whose shape, nesting or datatype does not fit, matrix tensors and unknown outputs.
/// </summary>
public sealed class MalformedRequests(IReadOnlyList<Operation> operations, int seed)
{
    private readonly Random random = new(seed);

    /// <summary>
    /// Operations whose valid requests change what the server does next (train, reconfigure, move the champion): they
    /// only get requests that can never be valid, so the run does not train models or lower the rate limit midway.
    /// </summary>
    private static readonly HashSet<string> Consequential = new(StringComparer.Ordinal)
    {
        "POST /retrain", "PUT /config", "POST /models/rollback", "POST /models/{version}/promote", "DELETE /keys/{id}",
    };

    private static readonly string[] JunkJson =
    [
        "null", "true", "false", "\"\"", "\" \"", "-1", "0", "-0", "1.5", "1e308", "-1e308", "1e309", "-1e400", "99999999999999999999999999999",
        "0.0000000000000000000001", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"nan\"", "\"1e400\"", "\"0x10\"", "\"\\u0663\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"💥🔥\"", "\"Ω≈ç√∫\"", "\"<script>alert(1)</script>\"", "\"' OR 1=1 --\"",
        "\"=cmd|'/C calc'!A0\"", "\"@SUM(A1:A9)\"", "\"+1+1\"", "[]", "{}", "[1,2,3]", "{\"a\":{\"b\":{}}}", "\"2026-13-45T99:99:99Z\"",
        "\"00000000-0000-0000-0000-000000000000\"", "\"true\"", "\"yes\"", "\"Yes\"", "\"Month-to-month\"",
    ];

    private static readonly string[] JunkSegments =
    [
        "-1", "0", "999999", "99999999999999999999", "abc", "1.5", "1e3", "%00", "%20", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", "%F0%9F%92%A5",
        "00000000-0000-0000-0000-000000000000", "not-a-guid", "%7B%7D", "null", "true",
    ];

    private static readonly string[] JunkQuery =
    [
        "", "-1", "0", "99999999999999999999", "abc", "NaN", "Infinity", "true", "maybe", "2026-01-01T00:00:00Z", "2026-99-99", "1e10",
        "%00", "%F0%9F%92%A5", "%3Cscript%3E", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
    ];

    /// <summary>Extra requests per scoring operation, built from that protocol's own faults.</summary>
    public const int PerProtocolOperation = 60;

    public IEnumerable<BadRequest> Generate(int perOperation)
    {
        foreach (var operation in operations)
        {
            for (var i = 0; i < perOperation; i++)
            {
                yield return One(operation);
            }
            if (operation.Key is "POST /predict" or "POST /predict/batch" or "POST /invocations" or "POST /v2/models/{name}/infer")
            {
                for (var i = 0; i < PerProtocolOperation; i++)
                {
                    yield return Protocol(operation);
                }
            }
        }
    }

    private BadRequest One(Operation operation)
    {
        var path = ApiSurface.Fill(operation, p => ValidSegment(p));
        var safeOnly = Consequential.Contains(operation.Key);
        var choice = random.Next(10);
        if (operation.PathParameters.Any() && choice < 2)
        {
            var junk = Pick(JunkSegments);
            if (random.Next(5) == 0)
            {
                junk = new string('x', random.Next(300, 5000));
            }
            var target = operation.PathParameters.ElementAt(random.Next(operation.PathParameters.Count()));
            path = ApiSurface.Fill(operation, p => p == target ? junk : ValidSegment(p));
            return new BadRequest(operation.Method, path, operation.BodyTypes.Count > 0 ? "{}"u8.ToArray() : null,
                operation.BodyTypes.Count > 0 ? "application/json" : null, "path:" + target.Name);
        }
        if (operation.QueryParameters.Any() && choice < 4)
        {
            var query = string.Join('&', operation.QueryParameters.Select(p => $"{p.Name}={Pick(JunkQuery)}"));
            if (random.Next(4) == 0)
            {
                query += $"&{Pick(operation.QueryParameters.ToList()).Name}={new string('9', random.Next(100, 3000))}";
            }
            return new BadRequest(operation.Method, $"{path}?{query}", null, null, "query");
        }
        if (operation.BodyTypes.Count == 0)
        {
            // A body where none is expected, or odd headers on a bodiless request: the server must ignore or refuse it cleanly.
            return random.Next(2) == 0
                ? new BadRequest(operation.Method, path, Encoding.UTF8.GetBytes(Pick(JunkJson)), Pick(["application/json", "text/plain", "application/xml"]), "unexpected-body")
                : new BadRequest(operation.Method, $"{path}?{Uri.EscapeDataString(Pick(JunkJson))}={Uri.EscapeDataString(Pick(JunkJson))}", null, null, "unexpected-query");
        }
        if (operation.BodyTypes.Any(t => t.Contains("csv", StringComparison.Ordinal)) && (random.Next(2) == 0 || !operation.BodyTypes.Contains("application/json")))
        {
            return Csv(operation, path);
        }
        return Json(operation, path, safeOnly);
    }

    private BadRequest Json(Operation operation, string path, bool safeOnly)
    {
        var seed = JsonNode.Parse(ValidBody(operation))!;
        var text = seed.ToJsonString();
        if (random.Next(8) == 0)
        {
            // Never valid, so safe everywhere: a byte-order mark before a junk body, or a key repeated in the innermost object.
            return random.Next(2) == 0
                ? new BadRequest(operation.Method, path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(InsertAtRandomValue(text, Pick(JunkJson))[..^1] + ",\"zzUnknownField\":1}")], "application/json", "bom-junk")
                : Raw(operation, path, RepeatInnermostKey(text), "duplicate-inner-key");
        }
        var kinds = safeOnly ? 9 : 17;
        switch (random.Next(kinds))
        {
            case 0:
                return Raw(operation, path, text[..random.Next(Math.Max(1, text.Length - 1))], "truncated");
            case 1:
                return Raw(operation, path, Pick(["[]", "[1]", "\"text\"", "42", "true", "[{}]"]), "wrong-root");
            case 2:
                var depth = random.Next(70, 3000);
                return Raw(operation, path, Nest(seed, depth), $"nested-{depth}");
            case 3:
                return Raw(operation, path, InsertAtRandomValue(text, Pick(["NaN", "Infinity", "-Infinity", "undefined", "0x1F", "007", "1.", ".5", "+1", "'single'"])), "bad-token");
            case 4:
                return Raw(operation, path, text[..^1] + ",}", "trailing-comma");
            case 5:
                // Bytes that are not UTF-8 inside a string.
                var bytes = Encoding.UTF8.GetBytes(text).ToList();
                var quote = bytes.IndexOf((byte)'"', random.Next(bytes.Count));
                bytes.InsertRange(quote < 0 ? 1 : quote + 1, [0xC3, 0x28, 0xFF, 0xFE]);
                return new BadRequest(operation.Method, path, [.. bytes], "application/json", "invalid-utf8");
            case 6:
                return Raw(operation, path, "/* comment */" + text, "comment");
            case 7:
                // A junk value and an unknown field: never valid, however the junk reads.
                // Spliced as text, so junk that a JSON library would refuse to write (a lone surrogate escape) still goes out.
                var spliced = InsertAtRandomValue(text, Pick(JunkJson));
                return Raw(operation, path, spliced[..^1] + ",\"zzUnknownField\":" + Pick(JunkJson) + "}", "junk-and-unknown");
            case 8:
                return new BadRequest(operation.Method, path, Encoding.UTF8.GetBytes(text), Pick(["text/plain", "application/xml", "application/x-www-form-urlencoded", "text/csv; charset=utf-8", "multipart/form-data; boundary=none"]), "wrong-content-type");
            case 9:
                return Raw(operation, path, InsertAtRandomValue(text, Pick(JunkJson)), "junk-value");
            case 10:
                RemoveRandomProperty(seed);
                return Raw(operation, path, seed.ToJsonString(), "missing-field");
            case 11:
                ReplaceRandomValue(seed, JsonValue.Create(RandomText(random.Next(4) == 0 ? random.Next(1_100_000, 1_600_000) : random.Next(1000, 100_000))));
                return Raw(operation, path, seed.ToJsonString(), "long-string");
            case 12:
                return Raw(operation, path, text.Insert(1, text[1..text.IndexOf(':', StringComparison.Ordinal)] + ":{\"dup\":1},"), "duplicate-key");
            case 13:
                return Batch(operation, path, seed);
            case 14:
                return new BadRequest(operation.Method, path, random.Next(2) == 0 ? [] : null, Pick(["application/json", null]), "empty");
            case 15:
                // A byte-order mark before a mutated body: the mark is skipped, so the mutation is what gets judged.
                return new BadRequest(operation.Method, path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(InsertAtRandomValue(text, Pick(JunkJson)))], "application/json", "bom");
            default:
                return new BadRequest(operation.Method, path, Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray(),
                    Pick(["application/json", "application/json; charset=utf-16"]), "utf16");
        }
    }

    /// <summary>The last key before the last closing brace, written once more with another value.</summary>
    private string RepeatInnermostKey(string text)
    {
        var close = text.LastIndexOf('}');
        var colon = text.LastIndexOf(':', close);
        if (colon < 0)
        {
            return "{\"a\":1,\"a\":2}";
        }
        var keyEnd = text.LastIndexOf('"', colon);
        var keyStart = text.LastIndexOf('"', keyEnd - 1);
        return text[..close] + "," + text[keyStart..(keyEnd + 1)] + ":" + Pick(JunkJson) + text[close..];
    }

    /// <summary>A request with a fault of the operation's own protocol: /predict, MLflow's /invocations or a V2 inference.</summary>
    private BadRequest Protocol(Operation operation)
    {
        var path = ApiSurface.Fill(operation, p => p.Name == "name" ? "churn" : "x");
        var customers = Bodies.Customers(random.Next(1, 4), seed: random.Next(1000));
        var records = customers.Select(c => c["features"]!.AsObject()).ToList();
        var names = records[0].Select(f => f.Key).ToList();
        var victim = Pick(names);
        switch (operation.Template)
        {
            case "/predict" or "/predict/batch":
                {
                    var features = records[0].ToJsonString();
                    var repeated = features[..^1] + $",\"{victim}\":{Pick(JunkJson)}}}";
                    var one = $"{{\"features\":{(random.Next(2) == 0 ? repeated : InsertAtRandomValue(features, Pick(["NaN", "Infinity", "-Infinity"])))}}}";
                    return Raw(operation, path, operation.Template == "/predict" ? one : $"{{\"customers\":[{one}]}}", "protocol-predict");
                }
            case "/invocations":
                {
                    var columns = new JsonObject([.. names.Select(n => KeyValuePair.Create(n, (JsonNode?)new JsonArray([.. records.Select(r => r[n]?.DeepClone())])))]);
                    var split = new JsonObject
                    {
                        ["columns"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
                        ["data"] = new JsonArray([.. records.Select(r => new JsonArray([.. names.Select(n => r[n]?.DeepClone())]))]),
                    };
                    switch (random.Next(7))
                    {
                        case 0:
                            split["columns"]!.AsArray().Add(victim);
                            return Raw(operation, path, new JsonObject { ["dataframe_split"] = split }.ToJsonString(), "mlflow-repeated-column");
                        case 1:
                            columns[victim]!.AsArray().Add(JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList())));
                            return Raw(operation, path, new JsonObject { [Pick(["inputs", "instances"])] = columns }.ToJsonString(), "mlflow-ragged-columns");
                        case 2:
                            return Raw(operation, path, new JsonObject { ["instances"] = new JsonArray([.. records.Select(r => r.DeepClone())]), ["inputs"] = columns }.ToJsonString(), "mlflow-two-shapes");
                        case 3:
                            return Raw(operation, path, "{\"" + Pick(["inputs", "instances", "dataframe_records", "dataframe_split"]) + "\":" + Pick(JunkJson) + "}", "mlflow-junk-shape");
                        case 4:
                            return Raw(operation, path, InsertAtRandomValue(new JsonObject { ["inputs"] = new JsonArray([.. records.Select(r => r.DeepClone())]), ["params"] = new JsonObject { ["k"] = 1 } }.ToJsonString(), Pick(["NaN", "Infinity", "-Infinity", "nan", "Inf", "NaNa", "\"NaN\""])), "mlflow-non-finite");
                        case 5:
                            return Raw(operation, path, InsertAtRandomValue(new JsonObject { ["dataframe_split"] = split }.ToJsonString(), Pick(JunkJson)), "mlflow-split-junk");
                        default:
                            return Raw(operation, path, new JsonObject { ["instances"] = new JsonArray([.. records.Select(r => r.DeepClone())]), ["params"] = JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList())) }.ToJsonString(), "mlflow-params");
                    }
                }
            default:
                {
                    var request = JsonNode.Parse(ValidBody(operation))!.AsObject();
                    var tensors = request["inputs"]!.AsArray();
                    var tensor = tensors[random.Next(tensors.Count)]!.AsObject();
                    string kind;
                    switch (random.Next(9))
                    {
                        case 0:
                            tensor["shape"] = new JsonArray([.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => JsonValue.Create(random.Next(-2, 5)))]);
                            kind = "v2-shape";
                            break;
                        case 1:
                            tensor["data"] = new JsonArray(new JsonArray(tensor["data"]![0]?.DeepClone(), 1), new JsonArray(2));
                            kind = "v2-nesting";
                            break;
                        case 2:
                            tensor["datatype"] = Pick(["BOOL", "BYTES", "INT8", "UINT64", "FP16", "FLOAT", "", "fp64"]);
                            kind = "v2-datatype";
                            break;
                        case 3:
                            var rows = new JsonArray([.. records.Select(r => new JsonArray([.. names.Select(n => JsonValue.Create(r[n]?.ToString()))]))]);
                            request["inputs"] = new JsonArray(new JsonObject { ["name"] = "input-0", ["shape"] = new JsonArray(records.Count, names.Count), ["datatype"] = "BYTES", ["data"] = rows });
                            kind = "v2-matrix";
                            break;
                        case 4:
                            tensor["shape"] = new JsonArray(1, 3);
                            tensor["data"] = new JsonArray(tensor["data"]![0]?.DeepClone(), tensor["data"]![0]?.DeepClone(), null);
                            kind = "v2-several-per-row";
                            break;
                        case 5:
                            tensors.Add(tensor.DeepClone());
                            kind = "v2-repeated-tensor";
                            break;
                        case 6:
                            request["outputs"] = new JsonArray(new JsonObject { ["name"] = Pick(["shoe_size", "churn_probability", "", "will_churn"]), ["parameters"] = JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList())) }, new JsonObject { ["name"] = "churn_probability" });
                            kind = "v2-outputs";
                            break;
                        case 7:
                            tensor["parameters"] = JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList()));
                            request["parameters"] = JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList()));
                            kind = "v2-parameters";
                            break;
                        default:
                            return Raw(operation, path, InsertAtRandomValue(request.ToJsonString(), Pick(["NaN", "Infinity", "-Infinity"])), "v2-non-finite");
                    }
                    return Raw(operation, path, request.ToJsonString(), kind);
                }
        }
    }

    private BadRequest Batch(Operation operation, string path, JsonNode seed)
    {
        var customers = Bodies.Customers(random.Next(2) == 0 ? 0 : random.Next(101, 400), seed: random.Next(1000));
        var array = new JsonArray([.. customers.Select(c => (JsonNode)c)]);
        if (array.Count > 0 && random.Next(2) == 0)
        {
            array[random.Next(array.Count)] = JsonNode.Parse(Pick(JunkJson.Where(j => !j.Contains("\\ud", StringComparison.Ordinal)).ToList()));
        }
        JsonNode body = operation.Template switch
        {
            "/invocations" => new JsonObject { ["dataframe_records"] = new JsonArray([.. customers.Select(c => c["features"]!.DeepClone())]) },
            "/predict/batch" => new JsonObject { ["customers"] = array },
            _ => new JsonArray([seed, seed.DeepClone()]),
        };
        return Raw(operation, path, body.ToJsonString(), $"batch-{array.Count}");
    }

    private BadRequest Csv(Operation operation, string path)
    {
        var lines = Bodies.Csv(random.Next(1, 20), seed: random.Next(1000)).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var row = random.Next(lines.Count);
        string kind;
        switch (random.Next(11))
        {
            case 0:
                lines[row] = string.Join(',', lines[row].Split(',').SkipLast(random.Next(1, 4)));
                kind = "csv-short-row";
                break;
            case 1:
                lines[row] += ",extra,cells," + RandomText(20);
                kind = "csv-long-row";
                break;
            case 2:
                lines[row] = lines[row].Insert(random.Next(lines[row].Length), "\"");
                kind = "csv-open-quote";
                break;
            case 3:
                lines = [lines[0]];
                kind = "csv-header-only";
                break;
            case 4:
                lines[0] = string.Join(',', lines[0].Split(',').Where((_, i) => i != random.Next(1, 8)));
                kind = "csv-missing-column";
                break;
            case 5:
                var cells = lines[row == 0 ? Math.Min(1, lines.Count - 1) : row].Split(',');
                cells[random.Next(cells.Length)] = Pick(["=cmd|'/C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\")", "\t=1"]);
                lines[row == 0 ? Math.Min(1, lines.Count - 1) : row] = string.Join(',', cells);
                kind = "csv-formula";
                break;
            case 6:
                return new BadRequest(operation.Method, path, [.. Encoding.UTF8.GetBytes(string.Join('\n', lines)).Take(40), 0xFF, 0xFE, 0x00, 0xC3, 0x28], "text/csv", "csv-invalid-utf8");
            case 7:
                return new BadRequest(operation.Method, path, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(string.Join('\n', lines))], "text/csv", "csv-utf16");
            case 8:
                var numeric = lines[row == 0 ? Math.Min(1, lines.Count - 1) : row].Split(',');
                numeric[random.Next(1, numeric.Length)] = Pick(["NaN", "Infinity", "1e400", "-1e309", "99999999999999999999999", "\0"]);
                lines[row == 0 ? Math.Min(1, lines.Count - 1) : row] = string.Join(',', numeric);
                kind = "csv-bad-number";
                break;
            case 9:
                lines[row] += "," + new string('z', random.Next(10_000, 300_000));
                kind = "csv-long-line";
                break;
            default:
                return new BadRequest(operation.Method, path, random.Next(2) == 0 ? [] : "\r\n\r\n"u8.ToArray(), "text/csv", "csv-empty");
        }
        var text = string.Join(random.Next(2) == 0 ? "\n" : "\r\n", lines);
        if (operation.BodyTypes.Contains("multipart/form-data") && random.Next(3) == 0)
        {
            var boundary = "----churn" + random.Next();
            var multipart = $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n--{boundary}--\r\n";
            return new BadRequest(operation.Method, path, Encoding.UTF8.GetBytes(multipart), $"multipart/form-data; boundary={boundary}", kind + "-multipart");
        }
        return new BadRequest(operation.Method, path, Encoding.UTF8.GetBytes(text), "text/csv", kind);
    }

    private static BadRequest Raw(Operation operation, string path, string body, string kind) =>
        new(operation.Method, path, Encoding.UTF8.GetBytes(body), "application/json", kind);

    /// <summary>A request body that the operation accepts, for the mutations to start from.</summary>
    public static string ValidBody(Operation operation)
    {
        var customer = Bodies.Customer();
        return operation.Key switch
        {
            "POST /predict" => customer.ToJsonString(),
            "POST /predict/batch" => new JsonObject { ["customers"] = new JsonArray(customer, Bodies.Customer(8)) }.ToJsonString(),
            "POST /feedback" => """{"customerId": "C-1001", "churned": true, "observedAt": "2026-01-31T00:00:00Z"}""",
            "POST /retrain" => """{"rows": 1000, "seed": 7, "drift": 0.1}""",
            "POST /invocations" => new JsonObject { ["dataframe_records"] = new JsonArray(customer["features"]!.DeepClone()) }.ToJsonString(),
            "POST /models/{version}/promote" => """{"reason": "fuzz"}""",
            "POST /models/rollback" => """{"toVersion": 1, "reason": "fuzz"}""",
            "PUT /config" => """{"api": {"rate_limit": 1000000}}""",
            "POST /keys" => """{"name": "fuzz", "role": "viewer"}""",
            "POST /v2/models/{name}/infer" => new JsonObject
            {
                ["inputs"] = new JsonArray([.. customer["features"]!.AsObject().Select(f => (JsonNode)new JsonObject
                {
                    ["name"] = f.Key,
                    ["shape"] = new JsonArray(1),
                    ["datatype"] = f.Value is JsonValue v && v.TryGetValue<string>(out _) ? "BYTES" : f.Value is JsonValue b && b.TryGetValue<bool>(out _) ? "BOOL" : "FP64",
                    ["data"] = new JsonArray(f.Value?.DeepClone()),
                })]),
            }.ToJsonString(),
            _ => "{\"value\": 1}",
        };
    }

    private string ValidSegment(Parameter parameter) => parameter.Format switch
    {
        "uuid" => Guid.NewGuid().ToString(),
        "int32" or "int64" => random.Next(2) == 0 ? "1" : "424242",
        _ => parameter.Name == "name" ? "churn" : "x",
    };

    private string Nest(JsonNode seed, int depth)
    {
        var inner = random.Next(2) == 0 ? "1" : "{\"a\":1}";
        var nested = new string('[', depth) + inner + new string(']', depth);
        return InsertAtRandomValue(seed.ToJsonString(), nested);
    }

    /// <summary>Replaces the first value after a random colon by <paramref name="raw"/> (text-level, so invalid tokens survive).</summary>
    private string InsertAtRandomValue(string text, string raw)
    {
        var colons = Enumerable.Range(0, text.Length).Where(i => text[i] == ':').ToList();
        if (colons.Count == 0)
        {
            return "{\"value\":" + raw + "}";
        }
        var at = colons[random.Next(colons.Count)] + 1;
        var end = at;
        if (text[end] is '{' or '[')
        {
            return text[..at] + raw + "," + "\"zz\":" + text[at..];
        }
        if (text[end] == '"')
        {
            end = text.IndexOf('"', end + 1) + 1;
        }
        else
        {
            while (end < text.Length && text[end] is not (',' or '}' or ']'))
            {
                end++;
            }
        }
        return text[..at] + raw + text[end..];
    }

    private void ReplaceRandomValue(JsonNode root, JsonNode? junk)
    {
        var holders = Containers(root).ToList();
        var holder = holders[random.Next(holders.Count)];
        if (holder is JsonObject o && o.Count > 0)
        {
            o[o.ElementAt(random.Next(o.Count)).Key] = junk;
        }
        else if (holder is JsonArray a && a.Count > 0)
        {
            a[random.Next(a.Count)] = junk;
        }
        else if (holder is JsonObject empty)
        {
            empty["value"] = junk;
        }
    }

    private void RemoveRandomProperty(JsonNode root)
    {
        var objects = Containers(root).OfType<JsonObject>().Where(o => o.Count > 0).ToList();
        if (objects.Count > 0)
        {
            var o = objects[random.Next(objects.Count)];
            o.Remove(o.ElementAt(random.Next(o.Count)).Key);
        }
    }

    private static IEnumerable<JsonNode> Containers(JsonNode node)
    {
        if (node is JsonObject o)
        {
            yield return o;
            foreach (var child in o.Select(p => p.Value).OfType<JsonNode>().ToList())
            {
                foreach (var inner in Containers(child))
                {
                    yield return inner;
                }
            }
        }
        else if (node is JsonArray a)
        {
            yield return a;
            foreach (var child in a.OfType<JsonNode>().ToList())
            {
                foreach (var inner in Containers(child))
                {
                    yield return inner;
                }
            }
        }
    }

    private string RandomText(int length)
    {
        const string alphabet = "abcXYZ019 ,;\"'\\/<>&%💥Ωçß\t\u00a0\u200b";
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }
        return builder.ToString();
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
