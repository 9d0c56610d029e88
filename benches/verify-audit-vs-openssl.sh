#!/usr/bin/env bash
# Re-hash throughput of `exhibit verify` and `exhibit audit` against
# `openssl dgst -sha256` over the same stored bytes (one object of SIZE_MIB),
# warm page cache, best of RUNS each. Target: each >= 0.9x openssl.
#
# Env: BENCH_DIR (reuse a folder; default a temp folder removed afterwards),
# SIZE_MIB (default 1024), RUNS (default 3), EXHIBIT (a built binary;
# default: build target/release/exhibit).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
timing=$(mktemp -t exhibit-bench-time.XXXXXX)
remove=("$timing")
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-audit.XXXXXX)
    remove+=("$BENCH_DIR")
fi
bytes=$((size_mib * 1024 * 1024))
if [[ -z "${EXHIBIT:-}" ]]; then
    cargo build --release --workspace --locked --bins --examples
    EXHIBIT=$PWD/target/release/exhibit
fi
export EXHIBIT_DATA=$BENCH_DIR/data EXHIBIT__SIGNING__KEY_FILE=$BENCH_DIR/key USER=bench
case_id=BENCH-AUDIT
src=$BENCH_DIR/src
if [[ ! -d "$EXHIBIT_DATA/cases/$case_id" ]]; then
    mkdir -p "$src"
    echo "bench: writing $size_mib MiB of random data and ingesting it"
    head -c "$bytes" /dev/urandom >"$src/random.bin"
    "$EXHIBIT" -q ingest --case "$case_id" --exhibit B/1 --operator bench "$src" >/dev/null
    rm -f -- "$src/random.bin"
fi
object=$(find "$EXHIBIT_DATA/cases/$case_id/objects/sha256" -type f -size +1M | head -n1)
echo "bench: object $object ($(stat -c %s -- "$object") bytes)"
cat -- "$object" >/dev/null
cat -- "$object" >/dev/null

# best LABEL CMD...: the fastest of $runs runs, as "seconds peak_rss_kib".
# Exit codes are ignored: verify exits 3 without trusted keys.
best() {
    local label=$1 i elapsed rss best_elapsed="" best_rss=""
    shift
    for ((i = 1; i <= runs; i++)); do
        /usr/bin/time -f '%e %M' -o "$timing" "$@" >/dev/null 2>&1 || true
        # GNU time puts "Command exited with non-zero status N" first.
        read -r elapsed rss < <(tail -n 1 "$timing")
        echo "bench:   $label run $i: ${elapsed}s, peak RSS ${rss} KiB" >&2
        if [[ -z "$best_elapsed" ]] || awk -v a="$elapsed" -v b="$best_elapsed" 'BEGIN { exit !(a < b) }'; then
            best_elapsed=$elapsed
            best_rss=$rss
        fi
    done
    echo "$best_elapsed $best_rss"
}

read -r ossl ossl_rss < <(best "openssl sha256" openssl dgst -sha256 "$object")
read -r verify verify_rss < <(best "exhibit verify" "$EXHIBIT" -q verify --case "$case_id")
read -r audit audit_rss < <(best "exhibit audit" "$EXHIBIT" -q audit --case "$case_id" --operator bench)

mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", b / 1e6 / s }'; }
printf '\n%-28s %9s %8s %14s\n' "command (best of $runs)" seconds MB/s "peak RSS KiB"
printf '%-28s %9s %8s %14s\n' \
    "openssl dgst -sha256" "$ossl" "$(mbps "$ossl")" "$ossl_rss" \
    "exhibit verify" "$verify" "$(mbps "$verify")" "$verify_rss" \
    "exhibit audit" "$audit" "$(mbps "$audit")" "$audit_rss"
ratio() {
    awk -v name="$1" -v o="$2" -v e="$3" 'BEGIN {
        if (e <= 0) e = 0.01
        r = o / e
        printf "%-36s %.3f (target >= 0.9) %s\n", name, r, (r >= 0.9 ? "PASS" : "MISS")
    }'
}
echo
ratio "exhibit verify / openssl sha256" "$ossl" "$verify"
ratio "exhibit audit / openssl sha256" "$ossl" "$audit"
