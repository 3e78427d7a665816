#!/usr/bin/env python3
"""One dataset's cross-validated AUC from `churn train --folds ... --json` (stdlib only).

  quality_row.py TRAIN.json DATASET LOADAVG_BEFORE COMMAND > ROW.json
"""
import json
import sys

d = json.load(open(sys.argv[1]))
cv = d["cv"]
print(json.dumps({
    "dataset": sys.argv[2],
    "auc_mean": cv["auc"]["mean"], "auc_sd": cv["auc"]["sd"], "auc_folds": cv["auc"]["folds"],
    "brier_mean": cv["brier"]["mean"],
    "final_model": {k: d["parameters"].get(k) for k in ("treeWeight", "trees", "leaves", "earlyStoppedTrees", "stageSeconds")},
    "training_seconds_final_model": d["trainingSeconds"],
    "loadavg_before": sys.argv[3],
    "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3]),
    "command": sys.argv[4],
}))
