#!/usr/bin/env bash
# Where the machine's two cores go while `churn serve` answers /predict at 50 concurrent: CPU time per request of the
# server, of the load tool and left idle (from /proc), beside the same for the trivial GET (the HTTP floor), then a
# `perf` sample of the server's process under of the /predict load grouped into the parts of a request, in microseconds per request.
# Writes results/profile-cpu.md. Run after bench/run.sh (it reuses $CHURN_BENCH_WORK: the published server, the
# trained data dir and the request bodies). Needs perf (apt-get install -y linux-perf) and hey.
#
# The server runs with the runtime's perf map on and W^X off, so that perf can name compiled methods; both are
# recorded in the output. BENCH_CPU_SECONDS (10) is the length of each measured case.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
out="${BENCH_RESULTS:-$bench/results}"
port="${BENCH_CHURN_PORT:-18303}"
seconds="${BENCH_CPU_SECONDS:-10}"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
command -v perf >/dev/null || { echo "perf is missing: apt-get install -y linux-perf" >&2; exit 1; }
command -v hey >/dev/null || { echo "hey is missing: apt-get install -y hey" >&2; exit 1; }
[ -f "$work/serve/churn.dll" ] && [ -d "$work/dd" ] && [ -f "$work/bodies/single.json" ] || { echo "Run bench/run.sh first." >&2; exit 1; }

data="$work/dd-cpu"
rm -rf "$data"; cp -r "$work/dd" "$data"
CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  "$work/serve/launch.sh" dotnet "$work/serve/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$data" >"$work/serve-cpu.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
predict=(-m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict")
hey -z 5s -c 50 "${predict[@]}" >/dev/null

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
total() { awk '/^cpu /{s = 0; for (i = 2; i <= NF; i++) s += $i; print s}' /proc/stat; }
# One case: hey for $seconds, the server's CPU ticks, the machine's idle and total ticks, the answered requests.
measure() { # name hey-args...
  local name=$1; shift
  local s0 i0 t0 s1 i1 t1
  s0=$(ticks); i0=$(idle); t0=$(total)
  hey -z "${seconds}s" -c 50 "$@" >"$work/cpu-hey-$name.txt"
  s1=$(ticks); i1=$(idle); t1=$(total)
  echo "$name $((s1 - s0)) $((i1 - i0)) $((t1 - t0)) $(grep -oP '\[200\]\s+\K\d+' "$work/cpu-hey-$name.txt")"
}
{
  measure floor "http://127.0.0.1:$port/health/live"
  measure predict "${predict[@]}"
} >"$work/cpu-cases.txt"

hey -z "$((seconds + 4))s" -c 50 "${predict[@]}" >"$work/cpu-hey-perf.txt" &
hpid=$!
sleep 2
perf record -p "$pid" -F 999 -o "$work/cpu.perf" -- sleep "$seconds" 2>"$work/cpu-perf.log"
wait "$hpid"
perf report -i "$work/cpu.perf" --no-children --sort comm,dso,sym -q --stdio -g none 2>/dev/null >"$work/cpu-syms.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true
trap - EXIT

/usr/bin/python3 "$bench/tools/cpu_report.py" "$work/cpu-cases.txt" "$work/cpu-syms.txt" "$work/cpu-perf.log" "$work/cpu-hey-perf.txt" "$seconds" \
  "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(git -C "$bench" rev-parse --short HEAD)" >"$out/profile-cpu.md"
cat "$out/profile-cpu.md"
