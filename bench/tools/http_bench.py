#!/usr/bin/env python3
"""HTTP load against one running server (Churn or the peer), with `hey`, on loopback (stdlib only).

  http_bench.py TARGET BASE_URL PID BODIES_DIR OUT_DIR DURATION_S [API_KEY]

Cases (the same commands for every target):
  c1         /predict, 1 concurrent, closed loop                  hey -z D/2 -c 1
  fixed1000  /predict at a fixed 1,000 requests/s                 hey -z D -c 10 -q 100   (10 workers x 100/s: hey starts
             the workers' tickers together, so this offers bursts of ten requests every 10 ms)
  paced1000  /predict at 1,000 requests/s evenly spaced, open loop  Churn.Benchmarks paced (one send every 1 ms, each
             timed from its own send; the benchmark build's dll from CHURN_BENCH_BIN)
  sat50      /predict at saturation, 50 concurrent                hey -z D -c 50
  batch100c1 /predict/batch with 100 real rows, 1 concurrent      hey -z D/2 -c 1
  batch100   /predict/batch with 100 real rows, 10 concurrent     hey -z D -c 10
  floor50    GET of the liveness endpoint, 50 concurrent          hey -z D -c 50   (no model, no body: the HTTP floor)
  file       /jobs/score: two uploads of BODIES_DIR/file.csv, one after the other; Churn is polled until each job
             succeeds. The second is the measured figure, like the other cases' steady state; the first (the first
             job after the start, which pays for compiling the scoring path) is recorded beside it
Resident memory: VmRSS of PID plus its child processes (uvicorn workers), sampled every 0.25 s during
the cases; "after" is read 3 s after the last case. Load average (/proc/loadavg) is recorded with each case.
Writes OUT_DIR/http-TARGET.json and leaves the raw hey CSV files in OUT_DIR/raw/.
"""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def rss_kb(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append(rss_kb(self.pid))
            time.sleep(0.25)


def hey(name, url, body, duration, extra, key, raw_dir, rows_per_request=1):
    out = os.path.join(raw_dir, f"{name}.csv")
    cmd = ["hey", "-z", f"{duration}s", *extra]
    # No body means a GET: the floor case, which measures the HTTP stack and hey themselves.
    cmd += ["-m", "POST", "-T", "application/json", "-D", body] if body else ["-m", "GET"]
    if key:
        cmd += ["-H", f"X-API-Key: {key}"]
    cmd += ["-o", "csv", url]
    before = loadavg()
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, check=True)
    stats = json.loads(subprocess.run([sys.executable, os.path.join(HERE, "hey_stats.py"), out, name, str(duration), str(rows_per_request)],
                                      capture_output=True, text=True, check=True).stdout)
    stats["command"] = " ".join(c if " " not in c else f"'{c}'" for c in cmd).replace(key or "\0", "$KEY")
    stats["loadavg_before"], stats["loadavg_after"] = before, loadavg()
    return stats


def paced(name, url, body, duration, rate, key, raw_dir):
    """Open-loop POSTs at RATE per second, evenly spaced (bench/Churn.Benchmarks/PacedLoad.cs); same fields as hey()."""
    out = os.path.join(raw_dir, f"{name}.json")
    dll = os.environ.get("CHURN_BENCH_BIN") or os.path.join(os.environ.get("CHURN_BENCH_WORK", "/tmp/churn-bench"), "benchbin", "Churn.Benchmarks.dll")
    env = dict(os.environ)
    if key:
        env["CHURN_BENCH_KEY"] = key
    before = loadavg()
    subprocess.run(["dotnet", dll, "paced", url, body, str(rate), str(duration), out, name], check=True, env=env)
    with open(out) as f:
        stats = json.load(f)
    stats["loadavg_before"], stats["loadavg_after"] = before, loadavg()
    return stats


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def file_job(target, base, data, rows, key):
    """One upload of DATA, timed from the upload's start to the result being ready (client wall clock)."""
    headers = {"Content-Type": "text/csv"}
    if key:
        headers["X-API-Key"] = key
    result = {}
    started = time.perf_counter()
    job = request("POST", base + "/jobs/score", data, headers)
    if target == "churn":
        while job["status"] not in ("Succeeded", "Failed", "Cancelled"):
            time.sleep(0.05)
            job = request("GET", f"{base}/jobs/{job['id']}", headers={"X-API-Key": key})
        wall = time.perf_counter() - started
        result["status"] = job["status"]
        # Server-side scoring time, from the job's own timestamps (upload excluded).
        t0, t1 = datetime.fromisoformat(job["startedAt"]), datetime.fromisoformat(job["finishedAt"])
        result["server_scoring_seconds"] = round((t1 - t0).total_seconds(), 3)
        result["server_rows_per_second"] = round(rows / (t1 - t0).total_seconds(), 1)
    else:
        wall = time.perf_counter() - started
        result["status"] = "Succeeded" if job.get("rows") == rows else f"rows {job.get('rows')}"
        result["server_scoring_seconds"] = round(job["seconds"], 3)
        result["server_rows_per_second"] = round(rows / job["seconds"], 1)
    result["wall_seconds"] = round(wall, 3)
    result["rows_per_second"] = round(rows / wall, 1)
    return result


def file_case(target, base, bodies, key):
    path = os.path.join(bodies, "file.csv")
    with open(path, "rb") as f:
        data = f.read()
    rows = data.count(b"\n") - 1
    first = file_job(target, base, data, rows, key)
    before = loadavg()
    result = {"name": "file", "rows": rows, "bytes": len(data), "loadavg_before": before,
              "command": f"curl -X POST {base}/jobs/score -H 'Content-Type: text/csv' --data-binary @file.csv" + (" (then GET /jobs/{id} every 50 ms until Succeeded)" if target == "churn" else " (synchronous)")
              + ", twice; both uploads are recorded (first_job_after_start is the first)"}
    result.update(file_job(target, base, data, rows, key))
    result["first_job_after_start"] = first
    result["loadavg_after"] = loadavg()
    return result


def main():
    target, base, pid, bodies, out_dir, duration = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
    key = sys.argv[7] if len(sys.argv) > 7 else None
    raw = os.path.join(out_dir, "raw")
    os.makedirs(raw, exist_ok=True)
    single, batch = os.path.join(bodies, "single.json"), os.path.join(bodies, "batch100.json")
    rss_idle = rss_kb(pid)
    sampler = Sampler(pid)
    sampler.start()
    cases = []
    half = max(2, duration // 2)

    def add(run):
        """Runs one case and records the peak of the RSS samples taken while it ran, so the overall peak names its case."""
        first = len(sampler.samples)
        case = run()
        during = sampler.samples[first:] or [rss_kb(pid)]
        case["rss_peak_mb"] = round(max(during) / 1024, 1)
        cases.append(case)

    # A short warm-up so both sides are measured warm.
    hey(f"{target}-warmup", base + "/predict", single, 2, ["-c", "4"], key, raw)
    add(lambda: hey(f"{target}-c1", base + "/predict", single, half, ["-c", "1"], key, raw))
    add(lambda: hey(f"{target}-fixed1000", base + "/predict", single, duration, ["-c", "10", "-q", "100"], key, raw))
    add(lambda: paced(f"{target}-paced1000", base + "/predict", single, duration, 1000, key, raw))
    add(lambda: hey(f"{target}-sat50", base + "/predict", single, duration, ["-c", "50"], key, raw))
    add(lambda: hey(f"{target}-batch100c1", base + "/predict/batch", batch, half, ["-c", "1"], key, raw, rows_per_request=100))
    add(lambda: hey(f"{target}-batch100", base + "/predict/batch", batch, duration, ["-c", "10"], key, raw, rows_per_request=100))
    # The floor: what this machine's loopback HTTP stack and hey reach with no scoring, no body and no log.
    live = base + ("/health/live" if target == "churn" else "/health")
    add(lambda: hey(f"{target}-floor50", live, None, duration, ["-c", "50"], key, raw))
    add(lambda: file_case(target, base, bodies, key))
    sampler.stop.set()
    sampler.join()
    time.sleep(3)
    report = {
        "target": target,
        "base_url": base,
        "rss_mb": {
            "idle_before": round(rss_idle / 1024, 1),
            "peak_during": round(max(sampler.samples) / 1024, 1),
            "median_during": round(sorted(sampler.samples)[len(sampler.samples) // 2] / 1024, 1),
            "after": round(rss_kb(pid) / 1024, 1),
            "processes": 1 + len(children(pid)),
            "peak_case": max(cases, key=lambda c: c["rss_peak_mb"])["name"],
        },
        "cases": {c["name"].split("-", 1)[1] if c["name"].startswith(target + "-") else c["name"]: c for c in cases},
    }
    with open(os.path.join(out_dir, f"http-{target}.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: (v.get("requests_per_second"), v.get("latency_ms", {}).get("p99"), v.get("rows_per_second")) for k, v in report["cases"].items()}))
    print("rss", report["rss_mb"])


if __name__ == "__main__":
    main()
