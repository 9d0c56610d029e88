#!/usr/bin/env bash
# What PRONOM identification adds to a folder ingest of many small files:
# the CPU time of matching the same 10,000 files of 1-8 KiB that
# benches/ingest.sh writes (same generator and seed), in one thread of a
# release build, against the wall time of that ingest. Goal: <= 3%.
# CPU time, not wall time, because on a shared machine the wall time of a
# step mostly measures waiting for a core.
#
# Env: FILES (default 10000), BENCH_DIR (reuse a folder and its inputs),
# INGEST_SECS (the ingest wall time to compare with; default: run
# benches/ingest.sh's ingest of the same folder once with BIG_GIB=0).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=${FILES:-10000}
if [[ -z "${BENCH_DIR:-}" ]]; then
    BENCH_DIR=$(mktemp -d -t exhibit-bench-pronom.XXXXXX)
    trap 'rm -rf -- "$BENCH_DIR"' EXIT
fi
export BENCH_DIR FILES=$files

cargo build --release -q --workspace --locked --bins --examples
identify=$PWD/target/release/examples/pronom-identify

if [[ -z "${INGEST_SECS:-}" ]]; then
    BIG_GIB=0 bash benches/ingest.sh | tee "$BENCH_DIR/ingest.txt"
    INGEST_SECS=$(awk '/^small-files .* files\/s/ { sub(/s$/, "", $2); print $2 }' "$BENCH_DIR/ingest.txt")
fi
small=$BENCH_DIR/small-$files
[[ -f "$small.complete" ]] || { echo "bench: $small is missing (run benches/ingest.sh with BENCH_DIR)" >&2; exit 1; }

for run in 1 2 3; do
    find "$small" -type f | sort | "$identify" - 2>"$BENCH_DIR/pronom-$run.txt" >/dev/null
    cat "$BENCH_DIR/pronom-$run.txt"
done
cpu_ms=$(sed -n 's/.*cpu \([0-9.]*\) ms.*/\1/p' "$BENCH_DIR"/pronom-*.txt | sort -n | sed -n 2p)
# Loading the signature file happens once per ingest, and counts.
load_ms=$(sed -n 's/.*load \([0-9.]*\) ms.*/\1/p' "$BENCH_DIR"/pronom-*.txt | sort -n | sed -n 2p)
awk -v m="$cpu_ms" -v l="$load_ms" -v s="$INGEST_SECS" 'BEGIN {
    share = (m + l) / 1000 / s * 100
    printf "pronom: median matching CPU %.1f ms + load %.1f ms over an ingest of %.2f s: %.2f%% (goal <= 3%%) %s\n", m, l, s, share, (share <= 3 ? "PASS" : "MISS")
}'
