#!/usr/bin/env bash
# tus upload throughput on loopback (issue 16): tuspy, the real client, with
# and without per-chunk sha256 checksums, against curl sending the same file
# as one raw tus PATCH (`curl -T`; the plain PUT handler is the API server's,
# not this crate's). One fresh tus-loopback server per run, so each peak RSS
# (VmHWM) is that run's. Target: >= 200 MB/s.
#
# Env: SIZE_MIB (default 1024), CHUNK_MIB (tuspy's chunk, default 64),
# RUNS (default 3, best kept), BENCH_DIR (reuse a folder and its file).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

size_mib=${SIZE_MIB:-1024}
chunk_mib=${CHUNK_MIB:-64}
runs=${RUNS:-3}
python=${EXHIBIT_PYTHON_TOOLS:-/opt/exhibit-python}/bin/python
remove=()
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    [[ ${#remove[@]} -gt 0 ]] && rm -rf -- "${remove[@]}"
}
trap cleanup EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-tus.XXXXXX)
    remove+=("$BENCH_DIR")
fi
file=$BENCH_DIR/random-${size_mib}MiB.bin
bytes=$((size_mib * 1024 * 1024))

cargo build --release --workspace --locked --bins --examples
server_bin=$PWD/target/release/tus-loopback

if [[ ! -f "$file" || "$(stat -c %s -- "$file")" -ne "$bytes" ]]; then
    echo "bench: writing $size_mib MiB of random data to $file"
    head -c "$bytes" /dev/urandom >"$file"
fi
cat -- "$file" >/dev/null
expected=$(sha256sum -- "$file" | cut -d' ' -f1)
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# start_server: starts a fresh server; sets server_pid, endpoint, staging, completions.
start_server() {
    local run_dir
    run_dir=$(mktemp -d -p "$BENCH_DIR" run.XXXXXX)
    staging=$run_dir/staging
    completions=$run_dir/completions.jsonl
    coproc SERVER { exec "$server_bin" --staging "$staging" --completions "$completions" --allow bench=BENCH-1; }
    server_pid=$SERVER_PID
    read -r line <&"${SERVER[0]}"
    endpoint=${line#listening }
}

# stop_server: sets hwm to the server's peak RSS in KiB, checks the upload's hash, stops it.
stop_server() {
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    if ! grep -q "\"sha256\":\"$expected\"" "$completions"; then
        echo "bench: the server's SHA-256 is not the file's" >&2
        exit 1
    fi
    rm -rf -- "$(dirname "$staging")"
}

tuspy() {
    "$python" crates/tus/tests/tuspy/upload.py --endpoint "$endpoint" --token bench:bench \
        --file "$file" --store "$(dirname "$staging")/urls.json" --chunk-size $((chunk_mib << 20)) \
        --case BENCH-1 --exhibit E/1 --filename bench.bin "$@" >/dev/null
}

curl_patch() {
    local location
    location=$(curl -sS -o /dev/null -D - -X POST "$endpoint" \
        -H 'Tus-Resumable: 1.0.0' -H 'Authorization: Bearer bench:bench' \
        -H "Upload-Length: $bytes" \
        -H "Upload-Metadata: case $(printf BENCH-1 | base64),exhibit $(printf E/1 | base64),filename $(printf bench.bin | base64)" |
        tr -d '\r' | awk -F': ' 'tolower($1) == "location" {print $2}')
    curl -sS -f -o /dev/null -X PATCH -T "$file" "${endpoint%/v1/uploads}$location" \
        -H 'Tus-Resumable: 1.0.0' -H 'Authorization: Bearer bench:bench' \
        -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream'
}

# measure LABEL CMD...: best of $runs; prints a table row.
measure() {
    local label=$1 i start end secs hwm best="" best_hwm=""
    shift
    for ((i = 1; i <= runs; i++)); do
        start_server
        start=$(date +%s.%N)
        "$@"
        end=$(date +%s.%N)
        stop_server
        secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
        echo "bench:   $label run $i: ${secs}s, server peak RSS ${hwm} KiB" >&2
        if [[ -z "$best" ]] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$secs
            best_hwm=$hwm
        fi
    done
    awk -v l="$label" -v s="$best" -v b="$bytes" -v h="$best_hwm" \
        'BEGIN { printf "| %s | %.2f s | %.0f MB/s | %.1f MiB |\n", l, s, b / 1e6 / s, h / 1024 }'
}

echo "| client | seconds | MB/s | server peak RSS |"
echo "| --- | ---: | ---: | ---: |"
measure "tuspy, ${chunk_mib} MiB chunks, sha256 per chunk" tuspy
measure "tuspy, ${chunk_mib} MiB chunks, no checksum" tuspy --no-checksum
measure "tuspy, one chunk, sha256" tuspy --chunk-size "$bytes"
measure "curl -T, one raw PATCH" curl_patch
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
