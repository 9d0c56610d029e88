#!/usr/bin/env bash
# Ingest throughput and peak memory of `exhibit ingest`, on a folder of many
# small files and on one large file, each into a fresh data directory.
# Target: peak RSS < 100 MiB for both.
#
# The small files are also copied by the durable peer a force would use
# instead, in the same run: `cp -r` + `hashdeep -r -c md5,sha1,sha256` +
# `sync -f` (copy, hash with the same three digests, make durable). Goal
# (issue 12): exhibit at >= 0.5x the peer's speed, flat memory.
#
# Env: FILES (default 10000 files of 1-8 KiB), BIG_GIB (default 4; 0 skips
# the large file), BENCH_DIR (reuse a folder and its inputs; default a temp
# folder that is removed afterwards).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=${FILES:-10000}
big_gib=${BIG_GIB:-4}
target_rss_kib=$((100 * 1024))
timing=$(mktemp -t exhibit-bench-time.XXXXXX)
remove=("$timing")
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-ingest.XXXXXX)
    remove+=("$BENCH_DIR")
fi

cargo build --release --workspace --locked --bins --examples
exhibit=$PWD/target/release/exhibit

small=$BENCH_DIR/small-$files
if [[ ! -f "$small.complete" ]]; then
    echo "bench: writing $files files of 1-8 KiB to $small"
    rm -rf -- "$small"
    python3 - "$small" "$files" <<'PY'
import os
import random
import sys

root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
for i in range(count):
    folder = os.path.join(root, f"d{i // 1000:03d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i:06d}.bin"), "wb") as f:
        f.write(os.urandom(rng.randint(1024, 8192)))
PY
    touch -- "$small.complete"
else
    echo "bench: reusing $small"
fi

big=$BENCH_DIR/big-${big_gib}GiB
if [[ "$big_gib" -gt 0 ]]; then
    big_bytes=$((big_gib * 1024 * 1024 * 1024))
    mkdir -p -- "$big"
    if [[ ! -f "$big/random.bin" || "$(stat -c %s -- "$big/random.bin")" -ne "$big_bytes" ]]; then
        echo "bench: writing $big_gib GiB of random data to $big/random.bin"
        head -c "$big_bytes" /dev/urandom >"$big/random.bin"
    else
        echo "bench: reusing $big/random.bin"
    fi
    need_kib=$((big_bytes * 11 / 10 / 1024))
    free_kib=$(df -Pk -- "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
    if [[ "$free_kib" -lt "$need_kib" ]]; then
        echo "bench: warning: $((free_kib / 1024)) MiB free in $BENCH_DIR, the store may need $((need_kib / 1024)) MiB" >&2
    fi
fi

# seconds H:MM:SS.ss|M:SS.ss -> seconds
seconds() {
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"
}

# ingest LABEL DIR: ingests DIR into a fresh data directory and reports.
ingest() {
    local label=$1 dir=$2 count bytes wall rss
    count=$(find "$dir" -type f | wc -l)
    bytes=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    EXHIBIT_DATA=$(mktemp -d -p "$BENCH_DIR" data.XXXXXX)
    EXHIBIT__SIGNING__KEY_FILE=$(mktemp -d -p "$BENCH_DIR" key.XXXXXX)/signing-key
    chmod 700 -- "$(dirname -- "$EXHIBIT__SIGNING__KEY_FILE")"
    export EXHIBIT_DATA EXHIBIT__SIGNING__KEY_FILE

    echo "bench: ingesting $label ($count files, $bytes bytes)"
    sync
    # Exit 3 is a run that needs attention (random bytes that claim a
    # format are flagged), still a complete ingest; anything else is not.
    local code=0
    /usr/bin/time -v -o "$timing" "$exhibit" ingest --case BENCH-1 --exhibit JS/1 \
        --operator "Bench Operator" "$dir" >/dev/null || code=$?
    if [[ "$code" -ne 0 && "$code" -ne 3 ]]; then
        echo "bench: exhibit ingest exited $code" >&2
        return 1
    fi
    wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$timing")
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$timing")
    elapsed=$(seconds "$wall")
    awk -v l="$label" -v n="$count" -v b="$bytes" -v s="$elapsed" -v r="$rss" -v t="$target_rss_kib" 'BEGIN {
        if (s <= 0) s = 0.01
        printf "%-12s %8.2fs %10.1f files/s %8.1f MB/s\n", l, s, n / s, b / 1e6 / s
        printf "%-12s Maximum resident set size: %d KiB (%.1f MiB, target < 100 MiB) %s\n",
            l, r, r / 1024, (r < t ? "PASS" : "MISS")
    }'
    rm -rf -- "$EXHIBIT_DATA" "$(dirname -- "$EXHIBIT__SIGNING__KEY_FILE")"
}

# peer DIR: the durable peer on DIR into a fresh folder; prints its time
# and peak RSS (the larger of cp's and hashdeep's), and sets peer_s.
peer() {
    local dir=$1 out wall_cp wall_hd rss_cp rss_hd start end
    out=$(mktemp -d -p "$BENCH_DIR" peer.XXXXXX)
    sync
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$timing.cp" cp -r -- "$dir" "$out/copy"
    /usr/bin/time -v -o "$timing.hd" hashdeep -r -c md5,sha1,sha256 "$out/copy" >"$out/hashes.txt"
    sync -f "$out/copy"
    end=$(date +%s.%N)
    rss_cp=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$timing.cp")
    rss_hd=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$timing.hd")
    peer_s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    awk -v s="$peer_s" -v n="$count_small" -v r1="$rss_cp" -v r2="$rss_hd" 'BEGIN {
        printf "%-12s %8.2fs %10.1f files/s  (cp -r + hashdeep -r -c md5,sha1,sha256 + sync -f)\n", "peer", s, n / s
        printf "%-12s Maximum resident set size: cp %d KiB, hashdeep %d KiB\n", "peer", r1, r2
    }'
    rm -rf -- "$out" "$timing.cp" "$timing.hd"
}

count_small=$(find "$small" -type f | wc -l)
if command -v hashdeep >/dev/null; then
    peer "$small"
else
    echo "bench: hashdeep is missing (scripts/setup-debian.sh installs it); no peer comparison" >&2
    peer_s=""
fi
ingest "small-files" "$small"
if [[ -n "$peer_s" ]]; then
    awk -v p="$peer_s" -v e="$elapsed" 'BEGIN {
        printf "small-files  exhibit at %.2fx the durable peer (goal >= 0.5x) %s\n", p / e, (p / e >= 0.5 ? "PASS" : "MISS")
    }'
fi
if [[ "$big_gib" -gt 0 ]]; then
    ingest "big-file" "$big"
fi
