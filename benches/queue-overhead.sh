#!/usr/bin/env bash
# Queue overhead per empty job through RabbitMQ (issue 14): each job
# published persistent to a quorum queue with its confirm awaited, received
# and acked, one at a time and in bulk. Goal: < 2 ms per job.
#
# Env: JOBS (default 5000), AMQP (default the broker on 127.0.0.1:5672),
# PROFILE (default release; "dev" to reuse a debug build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=${JOBS:-5000}
profile=${PROFILE:-release}
flags=()
[[ "$profile" == release ]] && flags+=(--release)
cargo build -q "${flags[@]}" --workspace --locked --bins --examples
target=${CARGO_TARGET_DIR:-target}
dir=debug
[[ "$profile" == release ]] && dir=release
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/$dir/examples/amqp_overhead" "$jobs" "${AMQP:-amqp://guest:guest@127.0.0.1:5672/%2f}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
