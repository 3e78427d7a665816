#!/usr/bin/env bash
# Where the time goes in `churn serve` under /predict load: a CPU-sampling trace (dotnet-trace) of the server
# while hey drives /predict at 50 concurrent, then the top methods by exclusive and inclusive samples.
# Run after bench/run.sh (it reuses $CHURN_BENCH_WORK: the trained data dir and the request bodies).
# Needs dotnet-trace: dotnet tool install -g dotnet-trace
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
out="$bench/results"
port="${BENCH_CHURN_PORT:-18301}"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
trace_tool="${DOTNET_TRACE:-$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")}"
[ -d "$work/dd" ] && [ -f "$work/bodies/single.json" ] || { echo "Run bench/run.sh first." >&2; exit 1; }

CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 \
  "$root/src/Churn.Server/launch.sh" dotnet "$root/.build/cli/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$work/dd" >"$work/serve-profile.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
hey -z 3s -c 4 -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict" >/dev/null

"$trace_tool" collect -p "$pid" --profile dotnet-sampled-thread-time --duration 00:00:00:15 -o "$work/predict.nettrace" >"$work/trace.log" 2>&1 &
tpid=$!
sleep 2
hey -z 12s -c 50 -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict" >"$work/profile-hey.txt"
wait "$tpid" || { cat "$work/trace.log" >&2; exit 1; }
{
  echo "# CPU samples of churn serve under hey -c 50 on /predict (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  grep -E "Requests/sec|99% in" "$work/profile-hey.txt"
  echo "## exclusive"
  "$trace_tool" report "$work/predict.nettrace" topN -n 40 2>&1
  echo "## inclusive"
  "$trace_tool" report "$work/predict.nettrace" topN -n 60 --inclusive 2>&1
} >"$out/profile-predict.txt"
cat "$out/profile-predict.txt"
