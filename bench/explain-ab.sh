#!/usr/bin/env bash
# Exact contributions (ADR 0004) against reasons by occlusion (ADR 0002), before and after in one run on one machine:
# both trees are built from git, each trains its own Telco model with its own CLI (same data, same seed), then
#   1. in process: explanation cost per row (bench/explain-ab/Program.cs), rounds alternating before/after;
#   2. over HTTP: /predict with the default five reasons, 50 concurrent (hey), rounds alternating before/after: the
#      first AB_DURATION seconds after ready (cold: tiered JIT still at work) and the next AB_DURATION seconds (warm)
#      are measured apart, since the two sides differ in how much code must tier up.
# Writes bench/results/explain-ab.json (or $AB_OUT) and prints it.
#
#   bench/explain-ab.sh [BEFORE_COMMIT] [AFTER_COMMIT]     defaults: 5b3d3e1 (last with occlusion) and HEAD
#   AB_ROUNDS=2 AB_DURATION=10                           rounds per side and seconds per hey case
#   AB_OUT=bench/results/other.json                      where the result goes
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
before="${1:-5b3d3e1}"
after="${2:-HEAD}"
rounds="${AB_ROUNDS:-2}"
duration="${AB_DURATION:-10}"
data="${CHURN_BENCH_DATA:-$(cd "$root/.." && pwd)/shared/data}"
telco="$data/WA_Fn-UseC_-Telco-Customer-Churn.csv"
work="${CHURN_AB_WORK:-/tmp/churn-explain-ab}"
key="ab-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
port=18311
py=/usr/bin/python3
command -v hey >/dev/null || { echo "hey is missing: apt-get install -y hey" >&2; exit 1; }
[ -f "$telco" ] || { echo "The Telco file is not at $telco (set CHURN_BENCH_DATA)." >&2; exit 1; }
say() { printf '\n== %s  [load %s]\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT

rm -rf "$work"; mkdir -p "$work"
for side in before after; do
  commit=$([ $side = before ] && echo "$before" || echo "$after")
  say "$side: $commit: build and train"
  mkdir -p "$work/$side/tree"
  git -C "$root" archive "$commit" | tar -x -C "$work/$side/tree"
  mkdir -p "$work/$side/tree/bench/explain-ab"
  cp "$bench/explain-ab/Program.cs" "$bench/explain-ab/ExplainTiming.csproj" "$work/$side/tree/bench/explain-ab/"
  dotnet build "$work/$side/tree/src/Churn.Cli/Churn.Cli.csproj" -c Release -o "$work/$side/cli" -nologo -v quiet >"$work/$side/build.log" 2>&1 || { cat "$work/$side/build.log" >&2; exit 1; }
  dotnet build "$work/$side/tree/bench/explain-ab/ExplainTiming.csproj" -c Release -o "$work/$side/timing" -nologo -v quiet >>"$work/$side/build.log" 2>&1 || { cat "$work/$side/build.log" >&2; exit 1; }
  dotnet "$work/$side/cli/churn.dll" train --data "$telco" --label Churn --positive Yes --id customerID --promote \
    --data-dir "$work/$side/dd" --out "$work/$side/pkg" >"$work/$side/train.log" 2>&1 || { cat "$work/$side/train.log" >&2; exit 1; }
done

"$py" "$bench/tools/make_bodies.py" "$telco" "$work/bodies" 100 >/dev/null
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    say "in process, round $round: $side"
    dotnet "$work/$side/timing/ExplainTiming.dll" "$work/$side/pkg/model.zip" "$telco" "$work/inproc-$side-$round.json" "$side"
  done
done
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    say "HTTP /predict, 50 concurrent, round $round: $side"
    CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 \
      dotnet "$work/$side/cli/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$work/$side/dd" >"$work/serve-$side-$round.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
    { echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
      hey -z "${duration}s" -c 50 -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict"
    } >"$work/http-cold-$side-$round.txt"
    { echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
      hey -z "${duration}s" -c 50 -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict"
    } >"$work/http-$side-$round.txt"
    curl -fs -H "X-API-Key: $key" -H "Content-Type: application/json" -d @"$work/bodies/single.json" "http://127.0.0.1:$port/predict" >"$work/response-$side.json"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done

"$py" - "$work" "$rounds" "${AB_OUT:-$root/bench/results/explain-ab.json}" "$before" "$(git -C "$root" rev-parse "$after")" <<'PY'
import json, re, sys, glob, subprocess, platform
work, rounds, out, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def http(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    codes = dict((int(c), int(n)) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", text))
    p99 = re.search(r"99%% in ([\d.]+) secs".replace("%%", "%"), text)
    return {"requests_per_second": rps, "status_codes": codes, "p99_ms": float(p99.group(1)) * 1000 if p99 else None,
            "loadavg": text.splitlines()[0].split(" ", 1)[1]}
res = {"machine": {"nproc": int(subprocess.run("nproc", capture_output=True, text=True).stdout),
                   "cpu": next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                   "kernel": platform.release(), "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()},
       "command": "bench/explain-ab.sh " + before + " " + after, "before_commit": before, "after_commit": after, "in_process": {}, "http_predict_50_concurrent": {}, "http_predict_50_concurrent_first_seconds": {}}
for side in ("before", "after"):
    res["in_process"][side] = [json.load(open(f"{work}/inproc-{side}-{r}.json")) for r in range(1, rounds + 1)]
    res["http_predict_50_concurrent"][side] = [http(f"{work}/http-{side}-{r}.txt") for r in range(1, rounds + 1)]
    res["http_predict_50_concurrent_first_seconds"][side] = [http(f"{work}/http-cold-{side}-{r}.txt") for r in range(1, rounds + 1)]
    res.setdefault("example_response", {})[side] = json.load(open(f"{work}/response-{side}.json"))
json.dump(res, open(out, "w"), indent=1)
print(json.dumps(res, indent=1))
PY
