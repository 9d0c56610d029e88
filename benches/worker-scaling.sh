#!/usr/bin/env bash
# Scaling of `exhibit worker` processes (issue 14): one-thread jobs (OCR of
# one scanned page each; tesseract runs with OMP_THREAD_LIMIT=1) through
# RabbitMQ, done by 1 worker process, then by 2, on the same queued work.
# Goal: 2 workers >= 1.7x the throughput of 1 on a 2-core machine.
#
# Each round: a fresh store and vhost; `exhibit ingest --detach` does
# acquire and identify here and queues one OCR job per page; then the
# workers start, and the round is timed until `exhibit status --wait` says
# nothing is queued or running (it re-reads once a second, so each figure
# carries up to 1 s of that).
#
# Env: PAGES (default 24), ROUNDS (default 2), EXHIBIT (a built binary;
# default builds target/release/exhibit, or target/debug with PROFILE=dev),
# BENCH_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

pages=${PAGES:-24}
rounds=${ROUNDS:-2}
if [[ -z "${EXHIBIT:-}" ]]; then
    if [[ "${PROFILE:-release}" == release ]]; then
        cargo build -q --release --workspace --locked --bins --examples
        EXHIBIT=${CARGO_TARGET_DIR:-target}/release/exhibit
    else
        cargo build -q --workspace --locked --bins --examples
        EXHIBIT=${CARGO_TARGET_DIR:-target}/debug/exhibit
    fi
fi
dir=${BENCH_DIR:-$(mktemp -d -t exhibit-bench-scaling.XXXXXX)}
vhost=exhibit-bench-scaling-$$
workers=()
cleanup() {
    for pid in "${workers[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
    [[ -n "${BENCH_DIR:-}" ]] || rm -rf -- "$dir"
}
trap cleanup EXIT
rabbitmqctl -q add_vhost "$vhost"
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'
queue="amqp://guest:guest@127.0.0.1:5672/$vhost"

# Distinct pages (each copy gets its own trailer after the image data, which
# decoders ignore), so that no page is a duplicate of another.
scans=$dir/scans
if [[ ! -d "$scans" ]]; then
    mkdir -p "$scans"
    for n in $(seq "$pages"); do
        cp fixtures/ocr/memo.png "$scans/page-$n.png"
        printf 'bench page %d' "$n" >>"$scans/page-$n.png"
    done
fi
export EXHIBIT__SIGNING__KEY_FILE=$dir/key EXHIBIT__OCR__THREADS=1 OMP_THREAD_LIMIT=1

round() {
    local count=$1 store=$2 case=$3
    "$EXHIBIT" -q --queue "$queue" --store "$store" ingest --case "$case" --exhibit S/1 \
        --operator Bench --detach "$scans" >/dev/null
    local load started ended
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    started=$(date +%s.%N)
    workers=()
    for _ in $(seq "$count"); do
        "$EXHIBIT" --queue "$queue" --store "$store" worker --stages ocr,ocr-bundle --concurrency 1 \
            --operator Bench 2>>"$dir/workers.log" &
        workers+=($!)
    done
    "$EXHIBIT" -q --store "$store" status --case "$case" --wait >/dev/null
    ended=$(date +%s.%N)
    for pid in "${workers[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
    workers=()
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{s:.2f} {int(sys.argv[3])/s:.3f}')" \
        "$started" "$ended" "$pages" | { read -r secs rate; echo "$secs $rate $load"; }
}

echo "| round | workers | load avg | seconds | pages/s |"
echo "| ---: | ---: | --- | ---: | ---: |"
for r in $(seq "$rounds"); do
    for count in 1 2; do
        read -r secs rate load < <(round "$count" "$dir/store-$r-$count" "SCALE-$r-$count")
        echo "| $r | $count | $load | $secs | $rate |"
    done
done
