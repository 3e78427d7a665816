#!/usr/bin/env python3
"""Builds bench/results/README.md and bench/results/summary.json from the JSON results of one run.

  report.py RESULTS_DIR ELAPSED_S DURATION_S TRAIN_RUNS FILE_ROWS
Profile notes for missed targets are read from RESULTS_DIR/../NOTES.md (hand-written, kept with the code).
"""
import json
import os
import sys

res, elapsed, duration, train_runs, file_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])


def load(name):
    p = os.path.join(res, name)
    return json.load(open(p)) if os.path.exists(p) else None


machine = load("machine.json") or {}
inproc = load("inprocess.json")
training = load("training.json")
http = {t: load(f"http-{t}.json") for t in ("churn", "peer1w", "peer2w")}

DESCRIPTIONS = {
    "SingleNoReasons": "single row, no reasons",
    "SingleWithReasons": "single row, 5 reasons (what /predict computes)",
    "Batch100WithReasons": "100-row batch, 5 reasons each (what /predict/batch computes)",
    "Batch100NoReasons": "100-row batch, no reasons",
    "ParseCsv": "CSV parsing (CsvReader), per row",
    "ScoreFile": "file scoring (FileScorer: parse, encode, score, write), per row",
    "ParseAndEncode": "profile: CSV parse + encode only, per row",
    "ScoreMatrixOnly": "profile: ChurnModel.ScoreMatrix on an encoded 8,192-row chunk (model alone), per row",
    "Drift": "drift check over 1M rows (DriftDetector.Detect: 19 features + score)",
}


def bench(name):
    if not inproc:
        return None
    return next((b for b in inproc["benchmarks"] if b["name"] == name), None)


def fmt_ns(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def case(target, name):
    h = http.get(target)
    return h["cases"].get(name) if h else None


def num(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.{digits}f}×"


targets = []


def target(name, goal, figure, met, how, extra=""):
    targets.append({"target": name, "goal": goal, "figure": figure, "met": met, "how_measured": how, "note": extra})


# 1. p99 at 1,000 req/s
f = case("churn", "fixed1000")
if f:
    rate_ok = f["requests_per_second"] >= 950
    target("single /predict p99 at 1,000 req/s", "< 5 ms", f"p99 {f['latency_ms']['p99']} ms at {f['requests_per_second']:,.0f} req/s achieved",
           rate_ok and f["latency_ms"]["p99"] < 5, f"hey -c 10 -q 100 for {duration} s, loopback, log on",
           "" if rate_ok else "the offered 1,000 req/s was not sustained")
f = case("churn", "sat50")
if f:
    floor = case("churn", "floor50")
    target("single predictions/s with logging on", "≥ 10,000/s", f"{f['requests_per_second']:,.0f} req/s (p99 {f['latency_ms']['p99']} ms)",
           f["requests_per_second"] >= 10000, f"hey -c 50 for {duration} s, loopback, one prediction per request",
           f"HTTP floor on this machine (GET /health/live, same hey command, no scoring): {floor['requests_per_second']:,.0f} req/s" if floor else "")
f, b = case("churn", "batch100c1"), bench("Batch100WithReasons")
if f:
    target("100-row batch", "< 10 ms", f"HTTP p50 {f['latency_ms']['p50']} ms, p99 {f['latency_ms']['p99']} ms (1 concurrent); in process {fmt_ns(b['median_ns']) if b else 'n/a'}",
           f["latency_ms"]["p50"] < 10, "POST /predict/batch, 100 real Telco rows, hey -c 1; judged on the HTTP median")
f, b = case("churn", "file"), bench("ScoreFile")
if f or b:
    inproc_rps = 1e9 / b["median_ns"] if b else None
    served = f["server_rows_per_second"] if f else None
    figure = f"served job {num(served)} rows/s (server-side, {num(f['rows'] if f else None)} rows; {num(f['rows_per_second'] if f else None)} rows/s including upload); in process {num(inproc_rps)} rows/s"
    target("file scoring", "≥ 200,000 rows/s", figure, (served or 0) >= 200000 and (inproc_rps or 0) >= 200000,
           "POST /jobs/score with the Telco file repeated, job timestamps; FileScorer in process over 70,430 rows; judged on both")
if training:
    target("training on 64k rows", "< 20 s", f"median {training['median_seconds']:.1f} s over {len(training['runs'])} runs (min {training['min_seconds']:.1f}, max {training['max_seconds']:.1f})",
           training["median_seconds"] < 20, "Stopwatch over schema inference + load + ChurnTrainer.Train defaults (as `churn train`)")
b = bench("Drift")
if b:
    target("drift check over 1M logged predictions", "< 5 s", f"{fmt_ns(b['median_ns'])} (median)", b["median_ns"] < 5e9,
           "DriftDetector.Detect over a 1M-row dataset with 1M scores, in process (reading the log from the store is not included)")
h = http.get("churn")
if h:
    target("serving resident memory", "< 300 MB", f"peak {h['rss_mb']['peak_during']} MB during the HTTP run, {h['rss_mb']['after']} MB after",
           h["rss_mb"]["peak_during"] < 300, "VmRSS from /proc/<pid>/status every 0.25 s")

# Peer comparison rows: (label, case, metric)
peer_rows = []
for label, name in [("/predict, 1 concurrent", "c1"), ("/predict, fixed 1,000 req/s offered (-c 10 -q 100)", "fixed1000"),
                    ("/predict, 50 concurrent", "sat50"), ("/predict/batch 100 rows, 1 concurrent", "batch100c1"),
                    ("/predict/batch 100 rows, 10 concurrent", "batch100"),
                    ("floor: GET liveness, 50 concurrent (no scoring)", "floor50")]:
    c = case("churn", name)
    if not c:
        continue
    row = {"case": label, "churn": c}
    for t in ("peer1w", "peer2w"):
        row[t] = case(t, name)
    peer_rows.append(row)

summary = {"machine": machine, "elapsed_seconds": elapsed, "targets": targets}
json.dump(summary, open(os.path.join(res, "summary.json"), "w"), indent=1)

L = []
w = L.append
w("# Churn benchmarks: results")
w("")
w(f"Written by `bench/run.sh` in {elapsed} s. The load average is recorded beside every figure: other work on this "
  "2-core machine during a run lowers the absolute numbers. The peer ran on the same machine with the same commands, "
  "so the ratios are the steadier comparison. How each file was produced is in [../NOTES.md](../NOTES.md).")
w("")
w("## Machine")
w("")
w(f"- CPU: {machine.get('cpu_model')} — `nproc` = {machine.get('nproc')}; memory {num(machine.get('memory_mb'))} MB; {machine.get('os')}, kernel {machine.get('kernel')}")
w(f"- `uptime` at start: `{machine.get('uptime_at_start')}`")
w(f"- git: `{machine.get('git_commit')}` ({machine.get('git_branch')}{', src dirty' if machine.get('git_dirty') else ''}); .NET SDK {machine.get('dotnet')}; hey {machine.get('hey')}")
w(f"- peer: {machine.get('python')}; " + ", ".join(machine.get("peer_packages", [])))
w("")
w("## Targets (PRODUCT.md section J)")
w("")
w("| target | goal | measured | met? | how |")
w("|---|---|---|---|---|")
for t in targets:
    w(f"| {t['target']} | {t['goal']} | {t['figure']} | {'**met**' if t['met'] else '**missed**'} | {t['how_measured']}{'; ' + t['note'] if t['note'] else ''} |")
w("")
w("Missed targets have a profile note in [../NOTES.md](../NOTES.md).")
w("")
w("## HTTP on loopback, side by side with the peer")
w("")
w("Churn: `churn serve` with the Telco model (trained by `churn train` on the Telco file), API key, rate limit raised "
  "to 10,000,000/min, prediction log on, 5 reasons per prediction (the default). Peer: `bench/peer/app.py`, FastAPI + "
  "scikit-learn HistGradientBoosting (tuned as BENCHMARKS.md) under uvicorn; 1 worker (default threads), and 2 workers "
  "with OMP_NUM_THREADS=1. The peer computes no reasons and logs nothing. Same bodies (real Telco rows), same `hey` "
  f"commands; {duration} s per case (1-concurrent cases {max(2, duration // 2)} s). hey runs on the same 2 cores as the server.")
w("")
w("Ratios: throughput = Churn ÷ peer (higher is better for Churn); latency = peer ÷ Churn (higher is better for Churn).")
w("")
w("| case | Churn req/s | p50 / p90 / p99 / p99.9 ms | peer 1w req/s | peer 1w p50 / p99 ms | peer 2w req/s | peer 2w p50 / p99 ms | throughput ratio vs 1w / 2w | p99 ratio vs 1w / 2w | load avg (Churn run) |")
w("|---|---:|---|---:|---|---:|---|---|---|---|")
for r in peer_rows:
    c, p1, p2 = r["churn"], r["peer1w"], r["peer2w"]
    lat = c["latency_ms"]

    def pl(p):
        return f"{p['latency_ms']['p50']} / {p['latency_ms']['p99']}" if p else "n/a"

    w(f"| {r['case']} | {num(c['requests_per_second'])} | {lat['p50']} / {lat['p90']} / {lat['p99']} / {lat['p99_9']} | "
      f"{num(p1['requests_per_second']) if p1 else 'n/a'} | {pl(p1)} | {num(p2['requests_per_second']) if p2 else 'n/a'} | {pl(p2)} | "
      f"{ratio(c['requests_per_second'], p1 and p1['requests_per_second'])} / {ratio(c['requests_per_second'], p2 and p2['requests_per_second'])} | "
      f"{ratio(p1 and p1['latency_ms']['p99'], lat['p99'])} / {ratio(p2 and p2['latency_ms']['p99'], lat['p99'])} | {c['loadavg_before']} |")
for name, label in [("batch100c1", "rows/s, batch 1 concurrent"), ("batch100", "rows/s, batch 10 concurrent")]:
    c, p1, p2 = case("churn", name), case("peer1w", name), case("peer2w", name)
    if c:
        w(f"| {label} | {num(c['rows_per_second'])} rows/s | | {num(p1 and p1['rows_per_second'])} | | {num(p2 and p2['rows_per_second'])} | | "
          f"{ratio(c['rows_per_second'], p1 and p1['rows_per_second'])} / {ratio(c['rows_per_second'], p2 and p2['rows_per_second'])} | | |")
c, p1, p2 = case("churn", "file"), case("peer1w", "file"), case("peer2w", "file")
if c:
    w(f"| file scoring, {num(c['rows'])} rows, server-side rows/s | {num(c['server_rows_per_second'])} | {c['server_scoring_seconds']} s | "
      f"{num(p1 and p1['server_rows_per_second'])} | {p1 and p1['server_scoring_seconds']} s | {num(p2 and p2['server_rows_per_second'])} | {p2 and p2['server_scoring_seconds']} s | "
      f"{ratio(c['server_rows_per_second'], p1 and p1['server_rows_per_second'])} / {ratio(c['server_rows_per_second'], p2 and p2['server_rows_per_second'])} | | {c['loadavg_before']} |")
    w(f"| file scoring incl. upload (wall) | {num(c['rows_per_second'])} rows/s | {c['wall_seconds']} s | {num(p1 and p1['rows_per_second'])} | {p1 and p1['wall_seconds']} s | "
      f"{num(p2 and p2['rows_per_second'])} | {p2 and p2['wall_seconds']} s | {ratio(c['rows_per_second'], p1 and p1['rows_per_second'])} / {ratio(c['rows_per_second'], p2 and p2['rows_per_second'])} | | |")
w("")
w("Resident memory (VmRSS; the peer's figure sums the uvicorn master and its workers). Ratio = Churn ÷ peer (lower is better for Churn).")
w("")
w("| server | idle before | peak during | median during | after | processes | ratio of peak (Churn ÷ this) |")
w("|---|---:|---:|---:|---:|---:|---|")
for t, label in [("churn", "Churn"), ("peer1w", "peer, 1 worker"), ("peer2w", "peer, 2 workers")]:
    h = http.get(t)
    if h:
        m = h["rss_mb"]
        w(f"| {label} | {m['idle_before']} MB | {m['peak_during']} MB | {m['median_during']} MB | {m['after']} MB | {m['processes']} | "
          f"{ratio(http['churn']['rss_mb']['peak_during'], m['peak_during']) if http.get('churn') else 'n/a'} |")
w("")
w("## In process (BenchmarkDotNet)")
w("")
if inproc:
    w(f"{inproc['job']}; load average before `{inproc.get('loadavg_before')}`, after `{inproc.get('loadavg_after')}`. "
      "Telco model as served; rows rotate through the 7,043 Telco customers.")
    w("")
    w("| benchmark | median | mean ± sd | per second | allocated/op |")
    w("|---|---:|---:|---:|---:|")
    for b in inproc["benchmarks"]:
        per = 1e9 / b["median_ns"] if b["median_ns"] else None
        unit = "rows/s" if b["name"] in ("ParseCsv", "ScoreFile", "ParseAndEncode", "ScoreMatrixOnly") else "ops/s"
        alloc = b.get("allocated_bytes")
        w(f"| {DESCRIPTIONS.get(b['name'], b['name'])} | {fmt_ns(b['median_ns'])} | {fmt_ns(b['mean_ns'])} ± {fmt_ns(b['stddev_ns'])} | {num(per)} {unit} | {num(alloc) + ' B' if alloc is not None else 'n/a'} |")
else:
    w("Not run.")
w("")
if training:
    w(f"Training on `customer_churn_dataset-testing-master.csv` (64,374 rows, label `Churn`, positive `1`, id `CustomerID`): "
      f"runs {', '.join(f'{s:.1f} s' for s in training['runs'])}; load average before `{training.get('loadavg_before')}`, after `{training.get('loadavg_after')}`. "
      "Peer (BENCHMARKS.md): well under a second per fold.")
    w("")
w("## Commands")
w("")
w("```")
w("bench/run.sh    # everything below, in this order")
w("./churn train --data ../shared/data/WA_Fn-UseC_-Telco-Customer-Churn.csv --label Churn --positive Yes --id customerID --promote --data-dir $WORK/dd --out $WORK/pkg")
w("dotnet $WORK/benchbin/Churn.Benchmarks.dll bdn --filter '*' --join        # CHURN_BENCH_MODEL=$WORK/pkg/model.zip")
w(f"dotnet $WORK/benchbin/Churn.Benchmarks.dll train training.json {train_runs}  # CHURN_BENCH_TRAIN=../shared/data/customer_churn_dataset-testing-master.csv")
w("CHURN_ADMIN_KEY=$KEY Churn__Api__rate_limit=10000000 dotnet .build/cli/churn.dll serve --urls http://127.0.0.1:18301 --data-dir $WORK/dd")
w("OMP_NUM_THREADS=1 /usr/bin/python3 -m uvicorn app:app --host 127.0.0.1 --port 18302 --workers 2   # in bench/peer; --workers 1 without OMP_NUM_THREADS")
seen = set()
for t in ("churn", "peer1w"):
    h = http.get(t)
    if h:
        for name, c in h["cases"].items():
            cmd = c["command"].replace("/tmp/churn-bench", "$WORK")
            if cmd not in seen:
                seen.add(cmd)
                w(cmd)
w("```")
w("")
w("Per-request latencies: `results/raw/*.csv` (hey -o csv; not committed). Percentiles are nearest-rank over all "
  "successful requests. hey paces `-q` per worker without correcting coordinated omission, and when the server cannot keep "
  "up the offered rate simply is not reached (the achieved rate is reported).")
open(os.path.join(res, "README.md"), "w").write("\n".join(L) + "\n")
print("\n".join(L))
