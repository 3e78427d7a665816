#!/usr/bin/env bash
# The cost of the prediction journal's fsync policy (Churn:PredictionJournalFlush): /predict throughput and p99 with
# Os (no fsync), GroupCommit (one fsync per commit interval, awaited before the responses it covers) and EveryWrite
# (one fsync per line), rounds alternating so each policy sees the same share of a shared machine's load.
# One build of a commit (AB_COMMIT, default HEAD) from git, one Telco model; the data directory is on the disk under
# $CHURN_JOURNAL_AB_WORK.
# Writes bench/results/journal-ab.json (or $AB_OUT) and prints it.
#
#   bench/journal-ab.sh
#   AB_ROUNDS=2 AB_DURATION=10 AB_CONCURRENCY=50       rounds per policy, seconds per hey case, concurrent clients
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
commit="$(git -C "$root" rev-parse "${AB_COMMIT:-HEAD}")"
rounds="${AB_ROUNDS:-2}"
duration="${AB_DURATION:-10}"
concurrency="${AB_CONCURRENCY:-50}"
policies="${AB_POLICIES:-Os GroupCommit EveryWrite}"
data="${CHURN_BENCH_DATA:-$(cd "$root/.." && pwd)/shared/data}"
telco="$data/WA_Fn-UseC_-Telco-Customer-Churn.csv"
work="${CHURN_JOURNAL_AB_WORK:-/var/tmp/churn-journal-ab}"
key="ab-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
port="${AB_PORT:-18321}"
py=/usr/bin/python3
command -v hey >/dev/null || { echo "hey is missing: apt-get install -y hey" >&2; exit 1; }
[ -f "$telco" ] || { echo "The Telco file is not at $telco (set CHURN_BENCH_DATA)." >&2; exit 1; }
say() { printf '\n== %s  [load %s]\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT

rm -rf "$work"; mkdir -p "$work"
say "build and train"
mkdir -p "$work/tree"
git -C "$root" archive "$commit" | tar -x -C "$work/tree"
dotnet build "$work/tree/src/Churn.Cli/Churn.Cli.csproj" -c Release -o "$work/cli" -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
dotnet "$work/cli/churn.dll" train --data "$telco" --label Churn --positive Yes --id customerID --promote \
  --data-dir "$work/dd" --out "$work/pkg" >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
"$py" "$bench/tools/make_bodies.py" "$telco" "$work/bodies" 100 >/dev/null

for round in $(seq 1 "$rounds"); do
  for policy in $policies; do
    say "HTTP /predict, $concurrency concurrent, round $round: $policy"
    CHURN_ADMIN_KEY="$key" Churn__Api__rate_limit=10000000 Churn__PredictionJournalFlush="$policy" Churn__InstanceId=journal-ab \
      dotnet "$work/cli/churn.dll" serve --urls "http://127.0.0.1:$port" --data-dir "$work/dd" >"$work/serve-$policy-$round.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.5; done
    hey -z 2s -c 4 -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict" >/dev/null
    { echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
      hey -z "${duration}s" -c "$concurrency" -m POST -T application/json -H "X-API-Key: $key" -D "$work/bodies/single.json" "http://127.0.0.1:$port/predict"
      echo "loadavg-after $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$work/http-$policy-$round.txt"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done

"$py" - "$work" "$rounds" "${AB_OUT:-$root/bench/results/journal-ab.json}" "$commit" "$duration" "$concurrency" "$policies" <<'PY'
import json, re, sys, subprocess, platform
work, rounds, out, commit, duration, concurrency, policies = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7].split()
def http(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    codes = dict((int(c), int(n)) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", text))
    p50 = re.search(r"50% in ([\d.]+) secs", text)
    p99 = re.search(r"99% in ([\d.]+) secs", text)
    lines = text.splitlines()
    return {"requests_per_second": rps, "status_codes": codes,
            "p50_ms": float(p50.group(1)) * 1000 if p50 else None, "p99_ms": float(p99.group(1)) * 1000 if p99 else None,
            "loadavg_before": lines[0].split(" ", 1)[1], "loadavg_after": lines[-1].split(" ", 1)[1]}
fs = subprocess.run(["df", "-T", work], capture_output=True, text=True).stdout.splitlines()[-1].split()
res = {"machine": {"nproc": int(subprocess.run("nproc", capture_output=True, text=True).stdout),
                   "cpu": next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                   "kernel": platform.release(), "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip(),
                   "journal_filesystem": {"device": fs[0], "type": fs[1]},
                   "shared": "the machine was shared with other engineers' builds and tests; see the load averages"},
       "command": "bench/journal-ab.sh", "commit": commit, "seconds_per_case": int(duration), "concurrency": int(concurrency),
       "endpoint": "POST /predict, one Telco customer, default five reasons", "policies": {}}
for policy in policies:
    res["policies"][policy] = [http(f"{work}/http-{policy}-{r}.txt") for r in range(1, rounds + 1)]
json.dump(res, open(out, "w"), indent=1)
print(json.dumps(res, indent=1))
PY
