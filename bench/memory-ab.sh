#!/usr/bin/env bash
# One start of the published server under a runtime setting, for comparing settings' resident memory and rate:
# launch through launch.sh on a fresh copy of the trained data folder, then 5 + 10 s of /predict at 50 concurrent,
# 5 s of 100-row batches at 1 and at 10 concurrent, and two file jobs of bodies/file.csv; VmRSS sampled every 0.25 s.
# Prints one line: ready time, idle RSS, the rates, the batch median, peak and final RSS. Alternate the settings
# compared, one start each in turn: this machine's speed drifts between runs.
# Run after bench/run.sh (it reuses $CHURN_BENCH_WORK: the published server, the trained data folder, the bodies).
#
#   bench/memory-ab.sh LABEL [VARIABLE=VALUE ...]     e.g. bench/memory-ab.sh nopgo DOTNET_TieredPGO=0
set -euo pipefail
label=$1; shift
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
port="${BENCH_CHURN_PORT:-18304}"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
[ -f "$work/serve/churn.dll" ] && [ -d "$work/dd" ] && [ -f "$work/bodies/file.csv" ] || { echo "Run bench/run.sh first." >&2; exit 1; }
data="$work/dd-memory"
rm -rf "$data"; cp -r "$work/dd" "$data"
t0=$(date +%s.%N)
env CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 "$@" \
  "$work/serve/launch.sh" dotnet "$work/serve/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$data" >"$work/serve-memory.log" 2>&1 &
pid=$!
samples="$work/memory-samples.txt"; : >"$samples"
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 1200); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
ready=$(echo "$(date +%s.%N) - $t0" | bc)
sleep 2
rss() { awk '/VmRSS/{print int($2 / 1024)}' "/proc/$pid/status"; }
idle=$(rss)
( while kill -0 "$pid" 2>/dev/null; do rss >>"$samples"; sleep 0.25; done ) &
sampler=$!
predict=(-m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict")
batch=(-m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/batch100.json" "http://127.0.0.1:$port/predict/batch")
rate() { awk '/Requests\/sec/{printf "%.0f", $2}'; }
first=$(hey -z 5s -c 50 "${predict[@]}" | rate)
steady=$(hey -z 10s -c 50 "${predict[@]}" | rate)
median=$(hey -z 5s -c 1 "${batch[@]}" | awk '/50% in/{printf "%.1f", $3 * 1000}')
hey -z 5s -c 10 "${batch[@]}" >/dev/null
for _ in 1 2; do
  id=$(curl -fs -X POST -H "X-API-Key: $key" -H 'Content-Type: text/csv' --data-binary @"$work/bodies/file.csv" \
    "http://127.0.0.1:$port/jobs/score" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  until curl -fs -H "X-API-Key: $key" "http://127.0.0.1:$port/jobs/$id" | grep -q '"status":"Succeeded"'; do sleep 0.1; done
done
after=$(rss)
kill "$sampler" 2>/dev/null || true
peak=$(sort -n "$samples" | tail -1)
printf '%s: ready %.1f s, idle %s MB, /predict c50 %s req/s (first 5 s) then %s, batch 100 c1 p50 %s ms, peak %s MB, after %s MB\n' \
  "$label" "$ready" "$idle" "$first" "$steady" "$median" "$peak" "$after"
