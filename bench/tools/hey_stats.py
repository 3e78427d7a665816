#!/usr/bin/env python3
"""Summarises one `hey -o csv` run (one line per request) as JSON.

  hey_stats.py RESULT.csv NAME DURATION_S [ROWS_PER_REQUEST] > RESULT.json
Throughput = successful requests / wall duration of the run (last offset + its response time).
Percentiles are nearest-rank over every request's response time. hey paces -q per worker with a
ticker, so at a fixed rate a slow response delays later sends (coordinated omission is not corrected).
"""
import csv
import json
import math
import sys


def pct(sorted_ms, p):
    if not sorted_ms:
        return None
    k = max(0, min(len(sorted_ms) - 1, math.ceil(p / 100 * len(sorted_ms)) - 1))
    return round(sorted_ms[k], 3)


def main():
    path, name, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rows_per_request = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    ok, codes, end = [], {}, 0.0
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rt = float(r["response-time"])
            code = r["status-code"]
            codes[code] = codes.get(code, 0) + 1
            end = max(end, float(r["offset"]) + rt)
            if code.startswith("2"):
                ok.append(rt * 1000)
    ok.sort()
    wall = end if end > 0 else duration
    rps = len(ok) / wall if wall else 0
    print(json.dumps({
        "name": name,
        "requests_ok": len(ok),
        "status_codes": codes,
        "wall_seconds": round(wall, 3),
        "requests_per_second": round(rps, 1),
        "rows_per_second": round(rps * rows_per_request, 1),
        "latency_ms": {
            "p50": pct(ok, 50), "p90": pct(ok, 90), "p99": pct(ok, 99), "p99_9": pct(ok, 99.9),
            "max": round(ok[-1], 3) if ok else None,
            "mean": round(sum(ok) / len(ok), 3) if ok else None,
        },
    }, indent=1))


if __name__ == "__main__":
    main()
