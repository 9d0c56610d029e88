#!/usr/bin/env bash
# What PRONOM identification adds to a whole folder ingest: the same 10,000
# files of 1-8 KiB (benches/ingest.sh's generator, seed 1) ingested with
# `[identify] pronom = true` and `= false`, alternately, several rounds, in
# one run, each into a fresh data directory, with a release build. Reports
# the median wall time and CPU time (user + sys) of each, and their ratio.
# Goal: PRONOM on costs at most 3% more than off.
#
# Env: FILES (default 10000), ROUNDS (default 5), BENCH_DIR (reuse a folder
# and its inputs; default a temp folder that is removed afterwards),
# PROFILE (release, the default; `dev` reuses a debug build, whose own
# crates are unoptimised: a smoke test of the bench, not a figure).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=${FILES:-10000}
rounds=${ROUNDS:-5}
remove=()
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-pronom.XXXXXX)
    remove+=("$BENCH_DIR")
fi

# The transcode child too: identify probes audio and video in it.
profile=${PROFILE:-release}
cargo build --profile "$profile" -q --workspace --locked --bins --examples
dir=$profile
[[ $profile == dev ]] && dir=debug
exhibit=${CARGO_TARGET_DIR:-$PWD/target}/$dir/exhibit

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

results=$BENCH_DIR/pronom-overhead.txt
: >"$results"
timing=$(mktemp -t exhibit-bench-time.XXXXXX)
remove+=("$timing")

# ingest on|off ROUND: one ingest into a fresh data directory; appends
# "MODE WALL CPU" to the results.
ingest() {
    local mode=$1 round=$2 data key code
    data=$(mktemp -d -p "$BENCH_DIR" data.XXXXXX)
    key=$(mktemp -d -p "$BENCH_DIR" key.XXXXXX)
    chmod 700 -- "$key"
    sync
    code=0
    EXHIBIT_DATA=$data EXHIBIT__SIGNING__KEY_FILE=$key/signing-key EXHIBIT__IDENTIFY__PRONOM=$mode \
        /usr/bin/time -f '%e %U %S' -o "$timing" "$exhibit" ingest --case BENCH-1 --exhibit JS/1 \
        --operator "Bench Operator" --json "$small" >"$BENCH_DIR/ingest-$mode-$round.json" 2>/dev/null || code=$?
    # 3 is a clean run that needs a look (a random file that only looks
    # like audio is unidentified); anything else is a broken bench.
    if [[ $code -ne 0 && $code -ne 3 ]]; then
        echo "bench: ingest with pronom=$mode exited $code" >&2
        exit 1
    fi
    read -r wall user sys <"$timing"
    # The switch took: PRONOM off records no PUID at all.
    puids=$(grep -c '"puid"' "$BENCH_DIR/ingest-$mode-$round.json" || true)
    if [[ $mode == false && $puids -ne 0 ]]; then
        echo "bench: pronom=false still recorded $puids PUIDs" >&2
        exit 1
    fi
    awk -v m="$mode" -v w="$wall" -v u="$user" -v s="$sys" -v r="$round" -v p="$puids" \
        'BEGIN { printf "round %d pronom=%-5s wall %7.2fs cpu %7.2fs (%d PUIDs)\n", r, m, w, u + s, p }'
    echo "$mode $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >>"$results"
    rm -rf -- "$data" "$key"
}

for ((round = 1; round <= rounds; round++)); do
    # Alternate which goes first, so a machine that slows down (or warms
    # its caches) during the run favours neither.
    if ((round % 2)); then order=(true false); else order=(false true); fi
    for mode in "${order[@]}"; do
        ingest "$mode" "$round"
    done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
on_wall=$(awk '$1 == "true" { print $2 }' "$results" | median)
off_wall=$(awk '$1 == "false" { print $2 }' "$results" | median)
on_cpu=$(awk '$1 == "true" { print $3 }' "$results" | median)
off_cpu=$(awk '$1 == "false" { print $3 }' "$results" | median)
awk -v p="$profile" -v n="$files" -v r="$rounds" -v ow="$on_wall" -v fw="$off_wall" -v oc="$on_cpu" -v fc="$off_cpu" 'BEGIN {
    wall = (ow / fw - 1) * 100
    cpu = (oc / fc - 1) * 100
    printf "pronom-overhead: %d files, %d rounds, %s build, medians\n", n, r, p
    printf "  wall: on %.2fs, off %.2fs: %+.2f%% (goal <= 3%%) %s\n", ow, fw, wall, (wall <= 3 ? "PASS" : "MISS")
    printf "  cpu:  on %.2fs, off %.2fs: %+.2f%% (goal <= 3%%) %s\n", oc, fc, cpu, (cpu <= 3 ? "PASS" : "MISS")
}'
