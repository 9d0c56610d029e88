#!/usr/bin/env bash
# Upload into S3 (issue 14): `exhibit ingest` of one large random file into
# the S3 store (a regular file: a first pass hashes it, SHA-256 whole and per
# part; a second uploads it straight to its content address as a multipart
# upload with a SHA-256 per part, hashing MD5, SHA-1 and SHA-256 as it goes;
# recorded in the ledger) against boto3's `upload_file` of the same file to
# the same server, in the same run, interleaved. Goal: exhibit >= 0.9x
# boto3's throughput, and peak RSS flat with file size.
#
# Env: SIZES_MIB (default "256 1024"), RUNS (default 2, best kept), SERVER
# (moto, the default, or s3s-fs), EXHIBIT (a built binary; default builds
# target/release/exhibit, or target/debug with PROFILE=dev), BENCH_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

sizes=${SIZES_MIB:-256 1024}
runs=${RUNS:-2}
server=${SERVER:-moto}
tools=${EXHIBIT_PYTHON_TOOLS:-/opt/exhibit-python}
if [[ -z "${EXHIBIT:-}" ]]; then
    if [[ "${PROFILE:-release}" == release ]]; then
        cargo build -q --release --workspace --locked --bins --examples
        EXHIBIT=${CARGO_TARGET_DIR:-target}/release/exhibit
    else
        cargo build -q --workspace --locked --bins --examples
        EXHIBIT=${CARGO_TARGET_DIR:-target}/debug/exhibit
    fi
fi
dir=${BENCH_DIR:-$(mktemp -d -t exhibit-bench-s3.XXXXXX)}
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n "${BENCH_DIR:-}" ]] || rm -rf -- "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
case "$server" in
    moto) "$tools/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 & ;;
    s3s-fs)
        mkdir -p "$dir/s3s"
        s3s-fs --host 127.0.0.1 --port "$port" --access-key test --secret-key test "$dir/s3s" >"$dir/server.log" 2>&1 &
        ;;
    *) echo "SERVER is moto or s3s-fs" >&2; exit 2 ;;
esac
pids+=($!)
for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_ENDPOINT_URL_S3 AWS_PROFILE
"$tools/bin/python" - <<'PY'
import boto3
boto3.client("s3").create_bucket(Bucket="bench")
PY

# A script file, not a shell function: /usr/bin/time runs programs only.
cat >"$dir/boto3_upload.py" <<'PY'
import sys
import boto3
boto3.client("s3").upload_file(sys.argv[1], "bench", sys.argv[2])
PY

# Prints "SECONDS PEAK_KIB" of the command, from /usr/bin/time -v. Exit 3
# (done, a person must look: an unidentified file) is a finished ingest.
timed() {
    local code=0
    /usr/bin/time -v -o "$dir/time" "$@" >/dev/null 2>"$dir/stderr" || code=$?
    if [[ $code -ne 0 && $code -ne 3 ]]; then
        cat "$dir/stderr" >&2
        return 1
    fi
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
                /Maximum resident/ { rss = $2 } END { printf "%.2f %d\n", s, rss }' "$dir/time"
}

echo "server $server on port $port; exhibit $EXHIBIT"
echo "| size | run | load avg | exhibit s | exhibit MB/s | exhibit RSS | boto3 s | boto3 MB/s | boto3 RSS | ratio |"
echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for mib in $sizes; do
    file=$dir/random-$mib.bin
    [[ -f "$file" ]] || head -c "$((mib * 1024 * 1024))" /dev/urandom >"$file"
    for run in $(seq "$runs"); do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        keys=$dir/key-$mib-$run
        read -r es erss < <(timed env EXHIBIT_DATA="$dir/unused" EXHIBIT__SIGNING__KEY_FILE="$keys" \
            "$EXHIBIT" -q --store "s3://bench/x-$mib-$run" ingest --case BENCH-1 --exhibit "F/$run" \
            --operator Bench "$file")
        read -r bs brss < <(timed "$tools/bin/python" "$dir/boto3_upload.py" "$file" "boto3-$mib-$run")
        python3 - "$mib" "$run" "$load" "$es" "$erss" "$bs" "$brss" <<'PY'
import sys
mib, run, load, es, erss, bs, brss = sys.argv[1:]
mb = int(mib) * 1048576 / 1e6
es, bs = float(es), float(bs)
print(f"| {mib} MiB | {run} | {load} | {es:.2f} | {mb/es:.0f} | {int(erss)//1024} MiB | {bs:.2f} | {mb/bs:.0f} | {int(brss)//1024} MiB | {bs/es:.2f}x |")
PY
    done
done
