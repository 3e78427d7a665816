#!/usr/bin/env python3
"""Writes request bodies from real Telco rows (stdlib only).

  make_bodies.py TELCO.csv OUTDIR FILE_ROWS
    OUTDIR/single.json      one real customer (the third data row, 3668-QPYBK: month-to-month, DSL, churned)
    OUTDIR/batch100.json    the first 100 customers as {"customers": [...]}
    OUTDIR/file.csv         the Telco file repeated to FILE_ROWS data rows (for /jobs/score)
Numeric columns are sent as JSON numbers (blank TotalCharges as null), the rest as the file's strings.
"""
import csv
import json
import os
import sys

NUMERIC = {"SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"}


def body(row):
    features = {}
    for k, v in row.items():
        if k in ("customerID", "Churn"):
            continue
        if k in NUMERIC:
            v = v.strip()
            features[k] = None if v == "" else (int(v) if v.isdigit() else float(v))
        else:
            features[k] = v
    return {"customerId": row["customerID"], "features": features, "customerValue": 1200}


def main():
    src, out, file_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    with open(src, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "single.json"), "w") as f:
        json.dump(body(rows[2]), f)
    with open(os.path.join(out, "batch100.json"), "w") as f:
        json.dump({"customers": [body(r) for r in rows[:100]]}, f)
    with open(src, encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    header, data = lines[0], lines[1:]
    with open(os.path.join(out, "file.csv"), "w") as f:
        f.write(header + "\n")
        n = 0
        while n < file_rows:
            for line in data:
                if n == file_rows:
                    break
                f.write(line + "\n")
                n += 1


if __name__ == "__main__":
    main()
