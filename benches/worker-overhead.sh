#!/usr/bin/env bash
# Per-job overhead of the worker loop (issue 12): empty jobs through the
# in-process queue, each received, run by a stage that does nothing, given
# its completion record (durable in the store, or in the process as
# `exhibit ingest` keeps it on the in-memory queue), and acked.
# Goal: < 0.5 ms per job.
#
# Env: JOBS (default 20000), CONCURRENCY (default "1 4"), PROFILE
# (default release; "dev" to reuse a debug build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=${JOBS:-20000}
profile=${PROFILE:-release}
flags=()
[[ "$profile" == release ]] && flags+=(--release)
cargo build -q "${flags[@]}" --workspace --locked --bins --examples
target=${CARGO_TARGET_DIR:-target}
dir=debug
[[ "$profile" == release ]] && dir=release
for records in store memory; do
    for c in ${CONCURRENCY:-1 4}; do
        "$target/$dir/examples/worker_overhead" "$jobs" "$c" "$records"
    done
done
