#!/usr/bin/env bash
# `exhibit show --case C` on a case of 100,000 ledger entries (50,000
# artefacts), from the read model: the first run (the read model is built
# from the ledger) and warm runs (two small ledger reads, then SQLite).
# Goal: a warm show under one second. Peer, in the same run: `cat` of every
# ledger entry and manifest of the case, the floor of what `show` cost
# before the read model (it read them all on every run).
#
# Env: ENTRIES (default 100000), RUNS (warm runs, default 5), BENCH_DIR
# (reuse a folder; default a temp folder removed afterwards), PROFILE
# (release, default, or dev).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

entries=${ENTRIES:-100000}
runs=${RUNS:-5}
profile=${PROFILE:-release}
remove=()
trap 'rm -rf -- "${remove[@]}"' EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-show.XXXXXX)
    remove+=("$BENCH_DIR")
fi
dir=$([[ $profile == dev ]] && echo debug || echo "$profile")
cargo build --profile "$profile" --workspace --locked --bins --examples
target=${CARGO_TARGET_DIR:-target}/$dir
store=$BENCH_DIR/store
case_id=BENCH100K

if [[ ! -d $store/cases/$case_id ]]; then
    start=$(date +%s.%N)
    "$target/examples/synthetic_case" "$store" "$case_id" "$entries" "$BENCH_DIR/key"
    echo "built the case in $(echo "$(date +%s.%N) - $start" | bc) s"
fi
rm -rf -- "$store/.exhibit"

export EXHIBIT_DATA=$store EXHIBIT__SIGNING__KEY_FILE=$BENCH_DIR/key
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
echo "first show (read model built from the ledger): $(seconds "$target/exhibit" show --case "$case_id") s"
for i in $(seq "$runs"); do
    echo "warm show $i: $(seconds "$target/exhibit" show --case "$case_id") s"
done
echo "warm show --json: $(seconds "$target/exhibit" show --case "$case_id" --json) s"
echo "warm status: $(seconds "$target/exhibit" status --case "$case_id") s"
sync
echo "peer: cat of every ledger entry and manifest: $(seconds sh -c "find '$store/cases/$case_id/ledger' '$store/cases/$case_id/artefacts' -type f -print0 | xargs -0 cat") s"
