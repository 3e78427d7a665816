#!/usr/bin/env python3
"""Cold start of a server just launched: time to the first answered /predict, then full load at once (stdlib + hey).

  cold_start.py TARGET BASE_URL LAUNCHED_EPOCH_S BODIES_DIR OUT_DIR SECONDS [API_KEY [SERVER_PID]]

LAUNCHED_EPOCH_S is the wall clock (date +%s.%N) just before the server process was started. The script polls
GET /health (ready) and POST /predict every 20 ms until each answers 2xx, then runs `hey -z SECONDS -c 50` on /predict
straight away and cuts the per-request CSV into one-second windows by completion time: requests/s and p50/p99 per
window. With SERVER_PID, a server that exits before answering ends the wait at once. Writes OUT_DIR/cold-TARGET.json and leaves the raw CSV in OUT_DIR/raw/.
"""
import csv
import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def ok(method, url, body=None, headers=None):
    try:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()
            return 200 <= r.status < 300
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def pct(sorted_ms, p):
    if not sorted_ms:
        return None
    return round(sorted_ms[max(0, min(len(sorted_ms) - 1, math.ceil(p / 100 * len(sorted_ms)) - 1))], 3)


def main():
    target, base, launched, bodies, out_dir, seconds = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
    key = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None
    pid = int(sys.argv[8]) if len(sys.argv) > 8 else None
    single = os.path.join(bodies, "single.json")
    with open(single, "rb") as f:
        body = f.read()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    ready = first = None
    deadline = time.time() + 600
    while time.time() < deadline and first is None:
        if pid is not None and not os.path.exists(f"/proc/{pid}"):
            sys.exit("The server exited before it answered /predict.")
        if ready is None and ok("GET", base + "/health"):
            ready = time.time()
        if ready is not None and ok("POST", base + "/predict", body, headers):
            first = time.time()
        else:
            time.sleep(0.02)
    if first is None:
        sys.exit("The server did not answer /predict within 600 s.")
    raw = os.path.join(out_dir, "raw")
    os.makedirs(raw, exist_ok=True)
    out = os.path.join(raw, f"{target}-cold.csv")
    cmd = ["hey", "-z", f"{seconds}s", "-c", "50", "-m", "POST", "-T", "application/json", "-D", single]
    if key:
        cmd += ["-H", f"X-API-Key: {key}"]
    cmd += ["-o", "csv", base + "/predict"]
    before = loadavg()
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, check=True)
    windows = [[] for _ in range(seconds + 1)]
    errors = 0
    with open(out, newline="") as f:
        for r in csv.DictReader(f):
            rt = float(r["response-time"])
            if not r["status-code"].startswith("2"):
                errors += 1
                continue
            done = float(r["offset"]) + rt
            windows[min(seconds, int(done))].append(rt * 1000)
    curve = []
    for s, w in enumerate(windows[:seconds]):
        w.sort()
        curve.append({"second": s + 1, "requests": len(w), "p50_ms": pct(w, 50), "p99_ms": pct(w, 99)})
    first5 = sorted(x for w in windows[:5] for x in w)
    last10 = sorted(x for w in windows[max(0, seconds - 10):seconds] for x in w)
    result = {
        "target": target,
        "launched_to_ready_seconds": round(ready - launched, 3),
        "launched_to_first_predict_seconds": round(first - launched, 3),
        "load_seconds": seconds,
        "first5": {"requests_per_second": round(len(first5) / 5, 1), "p50_ms": pct(first5, 50), "p99_ms": pct(first5, 99)},
        "last10": {"requests_per_second": round(len(last10) / min(10, seconds), 1), "p50_ms": pct(last10, 50), "p99_ms": pct(last10, 99)},
        "errors": errors,
        "curve": curve,
        "command": " ".join(c if " " not in c else f"'{c}'" for c in cmd).replace(key or "\0", "$KEY"),
        "loadavg_before": before,
        "loadavg_after": loadavg(),
    }
    with open(os.path.join(out_dir, f"cold-{target}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: result[k] for k in ("launched_to_ready_seconds", "launched_to_first_predict_seconds", "first5", "last10")}))
    print(" ".join(f"{c['requests']}" for c in curve), "requests per second")


if __name__ == "__main__":
    main()
