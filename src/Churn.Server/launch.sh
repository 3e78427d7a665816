#!/bin/sh
# Runs its arguments (a .NET command: launch.sh dotnet Churn.Server.dll) with the runtime settings the server is
# measured and shipped with. A variable already set in the environment is kept, so an operator can override each one.
# The image's entry point, the `churn` command in the image, the ./churn wrapper and bench/run.sh start through it;
# a published server started another way should too (docs/operations.md). Why each setting: bench/NOTES.md,
# "2026-12-01: resident memory and the CPU's cache".
#
# DOTNET_GCgen0size (bytes, hexadecimal): the collector's budget for new objects between two gen-0 collections. Unset,
#   the runtime derives it from the CPU's last-level cache (about half of it): on a CPU with a 105 MB cache the server
#   under load then held 35 MB more than with 16 MB, for the same CPU per request. 16 MB is the budget the runtime
#   picks for a 32 MB cache. The runtime reads this setting from the environment only (no runtimeconfig form).
# MALLOC_ARENA_MAX: at most two C-heap arenas (SQLite's page caches and the runtime's own allocations live there)
#   instead of up to eight per core, each holding memory of its own.
: "${DOTNET_GCgen0size:=0x1000000}"
: "${MALLOC_ARENA_MAX:=2}"
export DOTNET_GCgen0size MALLOC_ARENA_MAX
exec "$@"
