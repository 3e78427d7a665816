#!/usr/bin/env bash
# Churn benchmarks: one entry point. Measures in process (BenchmarkDotNet), over HTTP on loopback (hey) and
# the peer (FastAPI + scikit-learn, Debian packages) side by side, then writes bench/results/*.json and
# bench/results/README.md. Needs: hey (apt-get install -y hey) and Debian's python3-sklearn, python3-fastapi,
# python3-uvicorn, python3-pandas (run by /usr/bin/python3). Data is read from ../shared/data, never copied.
#
#   bench/run.sh                      everything (about 8-12 minutes on 2 quiet cores; much longer when the machine is busy)
#   BENCH_DURATION=10                 seconds per HTTP case (the 1-concurrent case runs half of it)
#   BENCH_TRAIN_RUNS=2                Stopwatch runs of training on the 64k file
#   BENCH_SKIP=bdn,train,http         skip parts (also churnhttp, peer1, peer2); the README is written from whatever results exist
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
data="${CHURN_BENCH_DATA:-$(cd "$root/.." && pwd)/shared/data}"
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
results="$bench/results"
duration="${BENCH_DURATION:-10}"
train_runs="${BENCH_TRAIN_RUNS:-2}"
skip="${BENCH_SKIP:-}"
py=/usr/bin/python3
telco="$data/WA_Fn-UseC_-Telco-Customer-Churn.csv"
big="$data/customer_churn_dataset-testing-master.csv"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
churn_port="${BENCH_CHURN_PORT:-18301}"
peer_port="${BENCH_PEER_PORT:-18302}"
file_rows="${BENCH_FILE_ROWS:-200000}"

say() { printf '\n== %s  [load %s]\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

command -v hey >/dev/null || { echo "hey is missing: apt-get install -y hey" >&2; exit 1; }
"$py" -c 'import sklearn, fastapi, uvicorn, pandas' 2>/dev/null ||
  { echo "Debian python packages are missing: apt-get install -y python3-sklearn python3-fastapi python3-uvicorn python3-pandas" >&2; exit 1; }
[ -f "$telco" ] && [ -f "$big" ] || { echo "Data files not found under $data (set CHURN_BENCH_DATA)." >&2; exit 1; }

mkdir -p "$results" "$work"
started=$(date +%s)
cd "$root"

say "machine"
"$py" - "$results/machine.json" "$root" <<'EOF'
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
info = {
  "nproc": int(sh("nproc")), "cpu_model": cpu, "memory_mb": mem, "kernel": platform.release(),
  "os": sh(". /etc/os-release && echo $PRETTY_NAME"), "uptime_at_start": sh("uptime"),
  "git_commit": sh(f"git -C {sys.argv[2]} rev-parse HEAD"), "git_branch": sh(f"git -C {sys.argv[2]} rev-parse --abbrev-ref HEAD"),
  "git_dirty": sh(f"git -C {sys.argv[2]} status --porcelain -- src") != "",
  "dotnet": sh("dotnet --version"), "hey": sh("dpkg-query -W -f='${Version}' hey"),
  "python": sh("/usr/bin/python3 --version"),
  "peer_packages": sh("dpkg-query -W -f='${Package} ${Version}\\n' python3-sklearn python3-fastapi python3-uvicorn python3-pandas python3-numpy python3-h11").splitlines(),
}
json.dump(info, open(sys.argv[1], "w"), indent=1)
print(json.dumps(info, indent=1))
EOF

say "build (CLI and benchmarks)"
./churn --help >/dev/null
dotnet build bench/Churn.Benchmarks/Churn.Benchmarks.csproj -c Release -o "$work/benchbin" -nologo -v quiet >"$work/benchbuild.log" 2>&1 ||
  { cat "$work/benchbuild.log" >&2; exit 1; }

say "train the Telco model into a fresh data dir (the model every scoring benchmark uses)"
rm -rf "$work/dd" "$work/pkg"
./churn train --data "$telco" --label Churn --positive Yes --id customerID --promote --data-dir "$work/dd" --out "$work/pkg" >"$work/train-telco.log" 2>&1 ||
  { cat "$work/train-telco.log" >&2; exit 1; }
export CHURN_BENCH_MODEL="$work/pkg/model.zip" CHURN_BENCH_TELCO="$telco" CHURN_BENCH_TRAIN="$big"

if [[ ",$skip," != *",bdn,"* ]]; then
  say "in process: BenchmarkDotNet (short in-process job)"
  rm -rf "$work/bdn"
  echo "{\"loadavg_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"" >"$work/bdn-load.json"
  (cd "$work" && dotnet "$work/benchbin/Churn.Benchmarks.dll" bdn --filter '*' --artifacts "$work/bdn" --join) | tee "$work/bdn.log" | grep -E '^\|' || true
  echo ", \"loadavg_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$work/bdn-load.json"
  report=$(ls "$work"/bdn/results/*-report-full.json | head -1)
  "$py" - "$report" "$work/bdn-load.json" "$results/inprocess.json" <<'EOF'
import json, sys
full = json.load(open(sys.argv[1])); load = json.load(open(sys.argv[2]))
out = {"job": "BenchmarkDotNet 0.15.8, ShortRun in-process (1 launch, 3 warm-ups, 5 iterations)", **load,
       "host": full.get("HostEnvironmentInfo", {}).get("RuntimeVersion"), "benchmarks": []}
for b in full["Benchmarks"]:
    s = b["Statistics"]
    out["benchmarks"].append({
        "name": b["Method"], "description": b.get("DisplayInfo", b["Method"]).split(":")[0], "type": b["Type"],
        "median_ns": s["Median"], "mean_ns": s["Mean"], "stddev_ns": s["StandardDeviation"], "min_ns": s["Min"], "max_ns": s["Max"],
        "allocated_bytes": (b.get("Memory") or {}).get("BytesAllocatedPerOperation"),
    })
json.dump(out, open(sys.argv[3], "w"), indent=1)
EOF
fi

wait_http() { # url pid
  for _ in $(seq 1 600); do
    curl -fs -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

if [[ ",$skip," != *",http,"* ]]; then
  say "HTTP: request bodies from real Telco rows"
  "$py" bench/tools/make_bodies.py "$telco" "$work/bodies" "$file_rows"
  [ -z "$skip" ] && rm -rf "$results/raw"
fi
if [[ ",$skip," != *",http,"* && ",$skip," != *",churnhttp,"* ]]; then
  say "HTTP: Churn server (Telco champion, prediction log on)"
  CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 \
    dotnet "$root/.build/cli/churn.dll" serve --urls "http://127.0.0.1:$churn_port" --data-dir "$work/dd" >"$work/serve.log" 2>&1 &
  cpid=$!; pids+=("$cpid")
  wait_http "http://127.0.0.1:$churn_port/health" "$cpid" || { cat "$work/serve.log" >&2; exit 1; }
  "$py" bench/tools/http_bench.py churn "http://127.0.0.1:$churn_port" "$cpid" "$work/bodies" "$results" "$duration" "$key"
  curl -fs "http://127.0.0.1:$churn_port/metrics" >"$work/churn-metrics.txt" 2>/dev/null || true
  kill "$cpid"; wait "$cpid" 2>/dev/null || true
fi
if [[ ",$skip," != *",http,"* ]]; then

  for workers in 1 2; do
    say "HTTP: peer, uvicorn with $workers worker(s)"
    threads=""; [ "$workers" = 2 ] && threads=1
    [[ ",$skip," == *",peer$workers,"* ]] && continue
    (cd "$bench/peer" && { [ -n "$threads" ] && export OMP_NUM_THREADS="$threads"; true; } && PEER_DATA="$telco" exec "$py" -m uvicorn app:app \
      --host 127.0.0.1 --port "$peer_port" --workers "$workers" --log-level warning --no-access-log) >"$work/peer$workers.log" 2>&1 &
    ppid_=$!; pids+=("$ppid_")
    wait_http "http://127.0.0.1:$peer_port/health" "$ppid_" || { cat "$work/peer$workers.log" >&2; exit 1; }
    sleep 5 # let every worker finish fitting its model before load
    "$py" bench/tools/http_bench.py "peer${workers}w" "http://127.0.0.1:$peer_port" "$ppid_" "$work/bodies" "$results" "$duration"
    kill "$ppid_"; wait "$ppid_" 2>/dev/null || true
  done
  # Raw per-request CSVs are large; keep them out of git (bench/.gitignore), summaries are in the JSON.
fi

# Training last: LightGbm's threads suffer most from a busy machine, and it is the longest part.
if [[ ",$skip," != *",train,"* ]]; then
  say "training on the 64k-row file ($train_runs Stopwatch runs)"
  l0=$(cut -d' ' -f1-3 /proc/loadavg)
  dotnet "$work/benchbin/Churn.Benchmarks.dll" train "$work/training.json" "$train_runs"
  "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); d['loadavg_before']=sys.argv[2]; d['loadavg_after']=open('/proc/loadavg').read().split()[:3]; d['loadavg_after']=' '.join(d['loadavg_after']); json.dump(d, open(sys.argv[3],'w'), indent=1)" \
    "$work/training.json" "$l0" "$results/training.json"
fi

say "report"
elapsed=$(( $(date +%s) - started ))
"$py" bench/tools/report.py "$results" "$elapsed" "$duration" "$train_runs" "$file_rows"
echo "Wrote $results/README.md in ${elapsed}s." >&2
