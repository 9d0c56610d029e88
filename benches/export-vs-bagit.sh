#!/usr/bin/env bash
# BagIt export of a case against bagit.py making a bag of the same files,
# in the same run, warm page cache, best of RUNS each. Target:
#   exhibit export --bagit (SHA-256 + MD5 manifests) >= 2x bagit.py --sha256 --md5
#
# exhibit reads every object from the store (checking its SHA-256), writes
# the copy and its MD5, and adds the ledger, anchors, manifests and
# verify.sh as tag files. bagit.py is given a folder holding a copy of the
# same files, made before its clock starts; it moves them into data/ and
# hashes them in place (so it writes no payload at all).
#
# Env: BENCH_DIR (default a temp folder, removed afterwards), SIZE_MIB
# (default 1024), FILES (default 16), RUNS (default 3), EXHIBIT_BIN (default
# target/release/exhibit, built here), EXHIBIT_PYTHON_TOOLS (bagit.py's
# virtual environment, from scripts/setup-debian.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

size_mib=${SIZE_MIB:-1024}
files=${FILES:-16}
runs=${RUNS:-3}
bagit=${EXHIBIT_PYTHON_TOOLS:-/opt/exhibit-python}/bin/bagit.py
timing=$(mktemp -t exhibit-bench-time.XXXXXX)
remove=("$timing")
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -z "${BENCH_DIR:-}" ]]; then
    BENCH_DIR=$(mktemp -d -t exhibit-bench-export.XXXXXX)
    remove+=("$BENCH_DIR")
fi
mkdir -p -- "$BENCH_DIR"

if [[ -z "${EXHIBIT_BIN:-}" ]]; then
    cargo build --release --workspace --locked --bins --examples
    EXHIBIT_BIN=$PWD/target/release/exhibit
fi
export EXHIBIT_DATA=$BENCH_DIR/store EXHIBIT__SIGNING__KEY_FILE=$BENCH_DIR/key/signing USER=bench

src=$BENCH_DIR/src
if [[ ! -d "$src" ]]; then
    mkdir -p "$src"
    echo "bench: writing $files files, $size_mib MiB in all, of random data to $src"
    for ((i = 1; i <= files; i++)); do
        head -c $((size_mib * 1024 * 1024 / files)) /dev/urandom >"$src/file-$i.bin"
    done
fi
if [[ ! -d "$EXHIBIT_DATA/cases/BENCH" ]]; then
    echo "bench: ingesting $src as case BENCH"
    "$EXHIBIT_BIN" -q ingest --case BENCH --exhibit B/1 --operator bench "$src" >/dev/null
fi
bytes=$(du -sb "$src" | cut -f1)
cat "$src"/* >/dev/null
cat "$EXHIBIT_DATA"/cases/BENCH/objects/sha256/* >/dev/null

# timed LABEL CMD...: runs CMD once, prints "seconds peak_rss_kib".
timed() {
    /usr/bin/time -f '%e %M' -o "$timing" "${@:2}" >/dev/null 2>&1
    read -r elapsed rss <"$timing"
    echo "bench:   $1: ${elapsed}s, peak RSS ${rss} KiB" >&2
    echo "$elapsed $rss"
}

best_exhibit="" best_bagit="" exhibit_rss="" bagit_rss=""
for ((run = 1; run <= runs; run++)); do
    out=$BENCH_DIR/exhibit-bag
    rm -rf "$out"
    read -r e rss < <(timed "exhibit run $run" "$EXHIBIT_BIN" -q export --case BENCH --bagit "$out")
    if [[ -z "$best_exhibit" ]] || awk -v a="$e" -v b="$best_exhibit" 'BEGIN { exit !(a < b) }'; then
        best_exhibit=$e exhibit_rss=$rss
    fi
    "$bagit" --validate --fast "$out" >/dev/null 2>&1 || { echo "bench: exhibit's bag does not validate" >&2; exit 1; }
    rm -rf "$out"

    theirs=$BENCH_DIR/bagit-bag
    rm -rf "$theirs" && cp -r "$src" "$theirs" && cat "$theirs"/* >/dev/null
    read -r b rss < <(timed "bagit.py run $run" "$bagit" --sha256 --md5 "$theirs")
    if [[ -z "$best_bagit" ]] || awk -v a="$b" -v b="$best_bagit" 'BEGIN { exit !(a < b) }'; then
        best_bagit=$b bagit_rss=$rss
    fi
    rm -rf "$theirs"
done

awk -v bytes="$bytes" -v e="$best_exhibit" -v b="$best_bagit" -v er="$exhibit_rss" -v br="$bagit_rss" 'BEGIN {
    if (e <= 0) e = 0.01
    printf "exhibit export --bagit: %.2fs (%.0f MB/s), peak RSS %d KiB\n", e, bytes / 1e6 / e, er
    printf "bagit.py --sha256 --md5: %.2fs (%.0f MB/s), peak RSS %d KiB\n", b, bytes / 1e6 / b, br
    printf "ratio (bagit.py time / exhibit time): %.2fx (target >= 2x)\n", b / e
}'
