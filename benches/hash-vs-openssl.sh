#!/usr/bin/env bash
# Hash throughput of `exhibit hash` against `openssl dgst`, on one file with
# a warm page cache, best of RUNS each. Targets:
#   exhibit sha256          / openssl sha256 >= 0.95
#   exhibit md5+sha1+sha256 / openssl md5    >= 0.9
#
# Env: BENCH_DIR (reuse a folder and its file; default a temp folder that is
# removed afterwards), SIZE_MIB (default 2048), RUNS (default 3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

size_mib=${SIZE_MIB:-2048}
runs=${RUNS:-3}
timing=$(mktemp -t exhibit-bench-time.XXXXXX)
remove=("$timing")
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-hash.XXXXXX)
    remove+=("$BENCH_DIR")
fi
file=$BENCH_DIR/random-${size_mib}MiB.bin
bytes=$((size_mib * 1024 * 1024))

cargo build --release --workspace --locked --bins --examples
exhibit=$PWD/target/release/exhibit

if [[ ! -f "$file" || "$(stat -c %s -- "$file")" -ne "$bytes" ]]; then
    echo "bench: writing $size_mib MiB of random data to $file"
    head -c "$bytes" /dev/urandom >"$file"
else
    echo "bench: reusing $file"
fi
echo "bench: warming the page cache"
cat -- "$file" >/dev/null
cat -- "$file" >/dev/null

# best LABEL CMD...: runs CMD $runs times; prints "seconds peak_rss_kib" of
# the fastest run.
best() {
    local label=$1 i elapsed rss best_elapsed="" best_rss=""
    shift
    for ((i = 1; i <= runs; i++)); do
        /usr/bin/time -f '%e %M' -o "$timing" "$@" >/dev/null
        read -r elapsed rss <"$timing"
        echo "bench:   $label run $i: ${elapsed}s, peak RSS ${rss} KiB" >&2
        if [[ -z "$best_elapsed" ]] || awk -v a="$elapsed" -v b="$best_elapsed" 'BEGIN { exit !(a < b) }'; then
            best_elapsed=$elapsed
            best_rss=$rss
        fi
    done
    echo "$best_elapsed $best_rss"
}

mbps() {
    awk -v b="$bytes" -v s="$1" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", b / 1e6 / s }'
}

read -r ossl_sha256 ossl_sha256_rss < <(best "openssl sha256" openssl dgst -sha256 "$file")
read -r ossl_md5 ossl_md5_rss < <(best "openssl md5" openssl dgst -md5 "$file")
read -r ex_sha256 ex_sha256_rss < <(best "exhibit sha256" "$exhibit" hash --algorithms sha256 "$file")
read -r ex_all ex_all_rss < <(best "exhibit all" "$exhibit" hash "$file")

printf '\n%-32s %9s %8s %14s\n' "command (best of $runs)" seconds MB/s "peak RSS KiB"
printf '%-32s %9s %8s %14s\n' \
    "openssl dgst -sha256" "$ossl_sha256" "$(mbps "$ossl_sha256")" "$ossl_sha256_rss" \
    "openssl dgst -md5" "$ossl_md5" "$(mbps "$ossl_md5")" "$ossl_md5_rss" \
    "exhibit hash sha256" "$ex_sha256" "$(mbps "$ex_sha256")" "$ex_sha256_rss" \
    "exhibit hash (md5,sha1,sha256)" "$ex_all" "$(mbps "$ex_all")" "$ex_all_rss"

# ratio NAME OPENSSL_SECONDS EXHIBIT_SECONDS TARGET: throughput ratio
# exhibit/openssl, which is openssl's time over exhibit's.
ratio() {
    awk -v name="$1" -v o="$2" -v e="$3" -v t="$4" 'BEGIN {
        if (e <= 0) e = 0.01
        r = o / e
        printf "%-40s %.3f (target >= %s) %s\n", name, r, t, (r >= t ? "PASS" : "MISS")
    }'
}
echo
ratio "exhibit sha256 / openssl sha256" "$ossl_sha256" "$ex_sha256" 0.95
ratio "exhibit all three / openssl md5" "$ossl_md5" "$ex_all" 0.9
