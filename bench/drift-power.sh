#!/usr/bin/env bash
# Power of the per-feature drift verdict on large windows (bench/drift-power/Program.cs): detection of a shift of PSI 0.1
# in one numeric feature (monthly charges moved up) and one categorical (two-year customers moved to month-to-month), and
# false alarms on unchanged windows, at 10k, 100k and 1M rows. Writes bench/results/drift-power.json and prints it.
#
#   bench/drift-power.sh [windows at 10k] [windows at 100k] [windows at 1M]     defaults: 100 30 10
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$bench/results/drift-power.json"
dotnet run -c Release --project "$bench/drift-power/DriftPower.csproj" -- "${1:-100}" "${2:-30}" "${3:-10}" > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
