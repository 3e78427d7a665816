#!/usr/bin/env bash
# Churn benchmarks: one entry point. Measures in process (BenchmarkDotNet), over HTTP on loopback (hey) and
# the peer (FastAPI + scikit-learn, Debian packages) side by side, then writes bench/results/*.json and
# bench/results/README.md. Needs: hey (apt-get install -y hey) and Debian's python3-sklearn, python3-fastapi,
# python3-uvicorn, python3-pandas (run by /usr/bin/python3). Data is read from ../shared/data, never copied.
#
# Every row of the performance targets is measured: the cold-start curve (time from launch to the first answer, then
# rate and p99 per second under 50 concurrent for the first 30 s), /predict steady and at a fixed rate beside the
# trivial-GET floor, 100-row batches, the served 1M-row file, training on the 64k file, cross-validated AUC on the four
# datasets (same folds as the peer), the drift check over 1M predictions read from the store, and resident memory.
#
#   bench/run.sh                      everything (about 20-25 minutes on 2 quiet cores; much longer when the machine is busy)
#   BENCH_SHORT=1 bench/run.sh        a quick end-to-end check of the script itself (2 s cases, small file, Telco quality only);
#                                     its figures are not results
#   BENCH_DURATION=10                 seconds per HTTP case (the 1-concurrent case runs half of it)
#   BENCH_COLD_SECONDS=30             seconds of full load right after the server answers its first /predict
#   BENCH_FILE_ROWS=1000000           rows of the served file case (the Telco rows repeated)
#   BENCH_TRAIN_RUNS=3                Stopwatch runs of training on the 64k file
#   BENCH_QUALITY_SETS=telco,bank,bankchurners,ccd   datasets cross-validated for model quality
#   BENCH_DRIFT_ROWS=1000000          logged predictions in the drift case
#   BENCH_RESULTS=bench/results       where the JSON files and README.md go (a short check defaults to $CHURN_BENCH_WORK/results-short)
#   BENCH_SKIP=bdn,train,http         skip parts (also cold, churnhttp, peer1, peer2, quality, drift); the README is written
#                                     from whatever results exist
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
data="${CHURN_BENCH_DATA:-$(cd "$root/.." && pwd)/shared/data}"
work="${CHURN_BENCH_WORK:-/tmp/churn-bench}"
results="${BENCH_RESULTS:-$bench/results}"
short="${BENCH_SHORT:-}"
# A short check writes beside the work files, never over the committed results.
[ -n "$short" ] && results="${BENCH_RESULTS:-$work/results-short}"
duration="${BENCH_DURATION:-$([ -n "$short" ] && echo 2 || echo 10)}"
cold_seconds="${BENCH_COLD_SECONDS:-$([ -n "$short" ] && echo 8 || echo 30)}"
train_runs="${BENCH_TRAIN_RUNS:-$([ -n "$short" ] && echo 1 || echo 3)}"
quality_sets="${BENCH_QUALITY_SETS:-$([ -n "$short" ] && echo telco || echo telco,bank,bankchurners,ccd)}"
drift_rows="${BENCH_DRIFT_ROWS:-$([ -n "$short" ] && echo 50000 || echo 1000000)}"
bdn_filter="${BENCH_BDN_FILTER:-$([ -n "$short" ] && echo '*SingleNoReasons*' || echo '*')}"
skip="${BENCH_SKIP:-}"
py=/usr/bin/python3
telco="$data/WA_Fn-UseC_-Telco-Customer-Churn.csv"
big="$data/customer_churn_dataset-testing-master.csv"
key="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
churn_port="${BENCH_CHURN_PORT:-18301}"
peer_port="${BENCH_PEER_PORT:-18302}"
file_rows="${BENCH_FILE_ROWS:-$([ -n "$short" ] && echo 20000 || echo 1000000)}"

say() { printf '\n== %s  [load %s]\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

command -v hey >/dev/null || { echo "hey is missing: apt-get install -y hey" >&2; exit 1; }
if [[ ",$skip," != *",http,"* && ( ",$skip," != *",peer1,"* || ",$skip," != *",peer2,"* ) ]]; then
  "$py" -c 'import sklearn, fastapi, uvicorn, pandas' 2>/dev/null ||
    { echo "Debian python packages for the peer are missing: apt-get install -y python3-sklearn python3-fastapi python3-uvicorn python3-pandas (or BENCH_SKIP=peer1,peer2)" >&2; exit 1; }
fi
[ -f "$telco" ] && [ -f "$big" ] || { echo "Data files not found under $data (set CHURN_BENCH_DATA)." >&2; exit 1; }

mkdir -p "$results" "$work"
# The exact command and the settings it ran with, for the results' header.
BENCH_COMMAND="$(for v in BENCH_SHORT BENCH_DURATION BENCH_COLD_SECONDS BENCH_FILE_ROWS BENCH_TRAIN_RUNS BENCH_QUALITY_SETS BENCH_DRIFT_ROWS BENCH_BDN_FILTER BENCH_SKIP; do
  if [ -n "${!v:-}" ]; then printf '%s=%q ' "$v" "${!v}"; fi; done)bench/run.sh"
export BENCH_COMMAND
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
  "command": os.environ.get("BENCH_COMMAND", ""), "short": bool(os.environ.get("BENCH_SHORT")),
  "dotnet": sh("dotnet --version"), "hey": sh("dpkg-query -W -f='${Version}' hey"),
  "python": sh("/usr/bin/python3 --version"),
  "peer_packages": sh("dpkg-query -W -f='${Package} ${Version}\\n' python3-sklearn python3-fastapi python3-uvicorn python3-pandas python3-numpy python3-h11").splitlines(),
}
json.dump(info, open(sys.argv[1], "w"), indent=1)
print(json.dumps(info, indent=1))
EOF

say "build (CLI and benchmarks; the server published as the container image publishes it)"
./churn --help >/dev/null
# The server under test is what ships: published for the runtime like the Dockerfile does (ReadyToRun), not the dev build.
rm -rf "$work/serve"
{ dotnet publish src/Churn.Server/Churn.Server.csproj -c Release -r linux-x64 --self-contained false -o "$work/serve" -nologo -v quiet &&
  dotnet publish src/Churn.Cli/Churn.Cli.csproj -c Release -r linux-x64 --self-contained false -o "$work/serve" -nologo -v quiet; } >"$work/publish.log" 2>&1 ||
  { cat "$work/publish.log" >&2; exit 1; }
dotnet build bench/Churn.Benchmarks/Churn.Benchmarks.csproj -c Release -o "$work/benchbin" -nologo -v quiet >"$work/benchbuild.log" 2>&1 ||
  { cat "$work/benchbuild.log" >&2; exit 1; }

say "train the Telco model into a fresh data dir (the model every scoring benchmark uses)"
rm -rf "$work/dd" "$work/pkg"
./churn train --data "$telco" --label Churn --positive Yes --id customerID --promote --data-dir "$work/dd" --out "$work/pkg" >"$work/train-telco.log" 2>&1 ||
  { cat "$work/train-telco.log" >&2; exit 1; }
export CHURN_BENCH_MODEL="$work/pkg/model.zip" CHURN_BENCH_TELCO="$telco" CHURN_BENCH_TRAIN="$big" CHURN_BENCH_BIN="$work/benchbin/Churn.Benchmarks.dll"

if [[ ",$skip," != *",bdn,"* ]]; then
  say "in process: BenchmarkDotNet (short in-process job)"
  rm -rf "$work/bdn"
  echo "{\"loadavg_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"" >"$work/bdn-load.json"
  (cd "$work" && dotnet "$work/benchbin/Churn.Benchmarks.dll" bdn --filter "$bdn_filter" --artifacts "$work/bdn" --join) | tee "$work/bdn.log" | grep -E '^\|' || true
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
  launched=$(date +%s.%N)
  # Through the published launcher, as the image starts the server: it sets the runtime's environment-only settings.
  CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 \
    "$work/serve/launch.sh" dotnet "$work/serve/churn.dll" serve --urls "http://127.0.0.1:$churn_port" --data-dir "$work/dd" >"$work/serve.log" 2>&1 &
  cpid=$!; pids+=("$cpid")
  if [[ ",$skip," != *",cold,"* ]]; then
    say "HTTP: cold start (launch to first answer, then ${cold_seconds} s of /predict at 50 concurrent)"
    "$py" bench/tools/cold_start.py churn "http://127.0.0.1:$churn_port" "$launched" "$work/bodies" "$results" "$cold_seconds" "$key" "$cpid" ||
      { cat "$work/serve.log" >&2; exit 1; }
  fi
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

if [[ ",$skip," != *",drift,"* ]]; then
  say "drift check over $drift_rows logged predictions read from a SQLite store"
  dotnet "$work/benchbin/Churn.Benchmarks.dll" drift "$results/drift.json" "$drift_rows" "$work/drift"
fi

# Training last: LightGbm's threads suffer most from a busy machine, and it is the longest part.
if [[ ",$skip," != *",train,"* ]]; then
  say "training on the 64k-row file ($train_runs Stopwatch runs)"
  l0=$(cut -d' ' -f1-3 /proc/loadavg)
  dotnet "$work/benchbin/Churn.Benchmarks.dll" train "$work/training.json" "$train_runs"
  "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); d['loadavg_before']=sys.argv[2]; d['loadavg_after']=open('/proc/loadavg').read().split()[:3]; d['loadavg_after']=' '.join(d['loadavg_after']); json.dump(d, open(sys.argv[3],'w'), indent=1)" \
    "$work/training.json" "$l0" "$results/training.json"
fi

if [[ ",$skip," != *",quality,"* ]]; then
  say "model quality: 5-fold cross-validation of the whole recipe on the peer's folds ($quality_sets)"
  rm -rf "$work/quality"; mkdir -p "$work/quality"
  for set in ${quality_sets//,/ }; do
    case "$set" in
      telco) args=(--data "$data/WA_Fn-UseC_-Telco-Customer-Churn.csv" --label Churn --positive Yes --folds "$data/folds/telco.csv") ;;
      bank) args=(--data "$data/Churn_Modelling.csv" --label Exited --positive 1 --drop RowNumber,CustomerId,Surname --folds "$data/folds/bank.csv") ;;
      bankchurners) args=(--data "$data/BankChurners.csv" --label Attrition_Flag --positive "Attrited Customer" --id CLIENTNUM
        --drop Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon_Dependent_count_Education_Level_Months_Inactive_12_mon_1,Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon_Dependent_count_Education_Level_Months_Inactive_12_mon_2
        --folds "$data/folds/bankchurners.csv") ;;
      ccd) args=(--data "$big" --label Churn --positive 1 --id CustomerID --folds "$data/folds/ccd_testing.csv") ;;
      *) echo "Unknown quality dataset '$set' (telco, bank, bankchurners, ccd)." >&2; exit 1 ;;
    esac
    l0=$(cut -d' ' -f1-3 /proc/loadavg)
    ./churn train "${args[@]}" --data-dir "$work/quality/dd-$set" --json >"$work/quality/$set.json" 2>"$work/quality/$set.log" ||
      { cat "$work/quality/$set.log" >&2; exit 1; }
    "$py" bench/tools/quality_row.py "$work/quality/$set.json" "$set" "$l0" "./churn train ${args[*]//$data/\$DATA} --json" >"$work/quality/$set.row.json"
    cat "$work/quality/$set.row.json" | head -c 200 >&2; echo >&2
  done
  "$py" -c "import json,sys; json.dump([json.load(open(p)) for p in sys.argv[2:]], open(sys.argv[1],'w'), indent=1)" "$results/quality.json" "$work"/quality/*.row.json
fi

say "report"
elapsed=$(( $(date +%s) - started ))
"$py" bench/tools/report.py "$results" "$elapsed" "$duration" "$train_runs" "$file_rows" "$cold_seconds"
echo "Wrote $results/README.md in ${elapsed}s." >&2
