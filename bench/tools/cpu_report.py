#!/usr/bin/env python3
"""Writes the CPU accounting of bench/cpu-profile.sh as Markdown (stdlib only).

  cpu_report.py CASES SYMS PERF_LOG HEY_PERF SECONDS CORES CPU LOADAVG COMMIT

CASES: one line per case, "name server_ticks idle_ticks total_ticks answered" (ticks of /proc, 1/100 s; the
machine's total counts every core). SYMS: `perf report --sort comm,dso,sym -g none` of the server's process; PERF_LOG: what
`perf record` printed (its sample count). HEY_PERF: hey's output for the load during the perf sample, whose rate turns samples into time per request.
"""
import re
import sys

HZ = 999  # perf record -F
TICK_US = 10_000  # /proc ticks are 1/100 s

# (part, test on (comm, dso, kind, symbol)); the first that matches takes the sample.
PARTS = [
    ("SHAP reasons (TreeShap)", lambda c, d, k, s: "Churn.Core.Scoring.TreeShap" in s),
    ("scoring and features (Churn.Core, other)", lambda c, d, k, s: "[Churn.Core]" in s),
    ("request handling, journal, log writer (Churn.Server, Churn.Data)",
     lambda c, d, k, s: "[Churn.Server]" in s or "[Churn.Data]" in s),
    ("JSON read and write (System.Text.Json)", lambda c, d, k, s: "[System.Text.Json]" in s or "[System.Text.Encodings.Web]" in s),
    ("metrics (OpenTelemetry, DiagnosticSource)",
     lambda c, d, k, s: "[OpenTelemetry" in s or "[System.Diagnostics.DiagnosticSource]" in s),
    ("prediction log store (SQLite, its ADO.NET provider, EF Core)",
     lambda c, d, k, s: "sqlite" in d.lower() or "Sqlite" in s or "SQLitePCL" in s or "EntityFrameworkCore" in s),
    ("API key hash (OpenSSL)", lambda c, d, k, s: "libcrypto" in d or "Cryptography" in s or "OpenSsl" in d),
    ("ASP.NET Core, Kestrel and sockets (managed)",
     lambda c, d, k, s: any(a in s for a in ("[Microsoft.AspNetCore", "[Microsoft.Extensions", "[System.IO.Pipelines]", "[System.Net"))),
    ("the journal's thread in the kernel (write, fsync)", lambda c, d, k, s: k == "k" and c.startswith("Churn journal")),
    ("kernel, request threads (sockets, scheduling, futex)", lambda c, d, k, s: k == "k"),
    ("JIT (tiered compilation)", lambda c, d, k, s: c.startswith(".NET Tiered") or "clrjit" in d),
    ("CoreLib (async machinery, threading, text, number formatting)", lambda c, d, k, s: "[System.Private.CoreLib]" in s),
    ("runtime, native (GC, allocation, dispatch stubs; libcoreclr, libc)", lambda c, d, k, s: True),
]


def main():
    cases_path, syms_path, perf_log, hey_path, seconds, cores, cpu, loadavg, commit = sys.argv[1:10]
    seconds = float(seconds)
    cases = {}
    for line in open(cases_path):
        name, server, idle, total, answered = line.split()
        cases[name] = dict(server=int(server), idle=int(idle), total=int(total), answered=int(answered))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", open(hey_path).read()).group(1))

    parts = {p: 0.0 for p, _ in PARTS}
    symbols = {}
    samples = 0.0
    for line in open(syms_path):
        m = re.match(r"\s*([\d.]+)%\s+(.+?)\s{2,}(.+?)\s{2,}\[(.)\]\s+(.*)", line)
        if not m:
            continue
        share, comm, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5)
        samples += share
        for part, test in PARTS:
            if test(comm, dso, kind, sym):
                parts[part] += share
                break
        short = re.sub(r"\[OptimizedTier1\]|\[Optimized\]|\[QuickJitted\]|\[Tier0\]|\[PreJIT\]", "", sym)
        short = re.sub(r"\(.*", "", short).split(" ")[-1][:110]
        symbols[short] = symbols.get(short, 0.0) + share
    print("# Where the CPU goes: `/predict` at 50 concurrent against the HTTP floor")
    print()
    print(f"`bench/cpu-profile.sh` at `{commit}`: {cores} cores ({cpu}), load average {loadavg} at the end. The published server")
    print("(`launch.sh`, as the image starts it) with the runtime's perf map on and W^X off, the sample model of")
    print("`bench/run.sh`'s data folder, prediction log and reasons on; `hey -c 50` on loopback, on the same two cores.")
    print()
    print("## CPU time per answered request (from /proc, over each case's whole run)")
    print()
    print("| case | req/s | server µs | load tool and the rest µs | idle µs | all cores µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, c in cases.items():
        n = c["answered"]
        rest = c["total"] - c["server"] - c["idle"]
        print(f"| {name} | {n / seconds:,.0f} | {c['server'] * TICK_US / n:.0f} | {rest * TICK_US / n:.0f} | "
              f"{c['idle'] * TICK_US / n:.0f} | {c['total'] * TICK_US / n:.0f} |")
    p = cases.get("predict")
    if p:
        rest = (p["total"] - p["server"] - p["idle"]) * TICK_US / p["answered"]
        budget = int(cores) * 1e6 / 15000 - rest
        print()
        print(f"At 15,000 req/s the two cores give {int(cores) * 1e6 / 15000:.0f} µs per request in all. With the load tool's")
        print(f"{rest:.0f} µs above, the server would have {budget:.0f} µs per `/predict`, against "
              f"{p['server'] * TICK_US / p['answered']:.0f} measured here and "
              f"{cases['floor']['server'] * TICK_US / cases['floor']['answered']:.0f} for the trivial GET.")
    # Shares are of the server's samples (`perf record -p` samples only its process). Sampling slows the server, so
    # the time per request is the share of the unsampled case's server time, measured from /proc above; the sampled
    # run's own figure is printed beside it.
    sample_count = int(re.search(r"\((\d+) samples\)", open(perf_log).read()).group(1))
    sampled_us = sample_count * 1e6 / HZ / (rate * seconds)
    server_us = p["server"] * TICK_US / p["answered"]
    # perf prints each line's share rounded to 0.01 %, so over a thousand lines they add up to a little more than
    # 100 %; the shares below are scaled to their own sum.
    us_per_share = server_us / samples
    scale = 100 / samples
    print()
    print(f"## The server's CPU per `/predict`, by part (perf, {seconds:.0f} s at {rate:,.0f} req/s)")
    print()
    print("Each sample is 1/999 s of one core in the server's process; the parts are grouped by the method's assembly")
    print("(or the native library, or the thread), so a part counts its own code, not what it calls in another part.")
    print(f"The µs are each share of the {server_us:.0f} µs measured without sampling above; under sampling the server")
    print(f"spent {sampled_us:.0f} µs per request.")
    print()
    print("| part | share | µs per request |")
    print("|---|---:|---:|")
    for part, share in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"| {part} | {share * scale:.1f} % | {share * us_per_share:.1f} |")
    print(f"| all | 100 % | {samples * us_per_share:.1f} |")
    print()
    print("## The 15 methods with the most samples")
    print()
    print("| method | share | µs per request |")
    print("|---|---:|---:|")
    for sym, share in sorted(symbols.items(), key=lambda kv: -kv[1])[:15]:
        print(f"| `{sym}` | {share * scale:.2f} % | {share * us_per_share:.1f} |")


if __name__ == "__main__":
    main()
