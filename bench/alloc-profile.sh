#!/usr/bin/env bash
# Where a served request's managed allocations come from: `churn serve` (the published server bench/run.sh built) under
# hey at 10 concurrent, traced with the runtime's GC events at verbose level (allocation ticks with stacks), for a
# single /predict and a 100-row /predict/batch; the report divides the sampled bytes by the requests sent.
# Run after bench/run.sh (it reuses $CHURN_BENCH_WORK: the published server, the trained data dir and the bodies).
# Needs dotnet-trace: dotnet tool install -g dotnet-trace
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
out="${BENCH_RESULTS:-$bench/results}"
port="${BENCH_CHURN_PORT:-18302}"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
trace_tool="${DOTNET_TRACE:-$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")}"
[ -f "$work/serve/churn.dll" ] && [ -d "$work/dd" ] && [ -f "$work/bodies/single.json" ] && [ -f "$work/benchbin/Churn.Benchmarks.dll" ] ||
  { echo "Run bench/run.sh first." >&2; exit 1; }

profile() { # name path body requests
  local name=$1 path=$2 body=$3 n=$4 data="$work/dd-alloc"
  rm -rf "$data"; cp -r "$work/dd" "$data"
  CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 \
    "$work/serve/launch.sh" dotnet "$work/serve/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$data" >"$work/serve-alloc.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
  hey -n 3000 -c 10 -m POST -T application/json -H "X-API-Key: $key" -D "$body" "http://127.0.0.1:$port$path" >/dev/null
  "$trace_tool" collect -p "$pid" --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration 00:00:00:20 -o "$work/alloc-$name.nettrace" >"$work/alloc-trace.log" 2>&1 &
  local tpid=$!
  sleep 2
  hey -n "$n" -c 10 -m POST -T application/json -H "X-API-Key: $key" -D "$body" "http://127.0.0.1:$port$path" >"$work/alloc-hey-$name.txt"
  wait "$tpid" || { cat "$work/alloc-trace.log" >&2; kill "$pid"; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
  dotnet "$work/benchbin/Churn.Benchmarks.dll" allocations "$work/alloc-$name.nettrace" "$n" "$work/alloc-$name.txt"
  {
    echo "## $name: hey -n $n -c 10 POST $path (the requests inside the trace's 20 s)"
    grep -E "Requests/sec|50% in|99% in" "$work/alloc-hey-$name.txt"
    echo
    cat "$work/alloc-$name.txt"
    echo
  } >>"$out/profile-allocations.txt"
}

{
  echo "# Managed allocations per request of churn serve ($(git -C "$bench/.." rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "Command: bench/alloc-profile.sh"
  echo
} >"$out/profile-allocations.txt"
profile predict /predict "$work/bodies/single.json" 20000
profile batch100 /predict/batch "$work/bodies/batch100.json" 1500
cat "$out/profile-allocations.txt"
