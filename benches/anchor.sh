#!/usr/bin/env bash
# What RFC 3161 anchoring costs a folder ingest: 10,000 small files ingested
# with anchoring off and on, against a loopback TSA (python3's http.server
# answering each query with `openssl ts -reply`, a test CA made here).
# Anchoring makes one TSA round trip per ingest (plus one per
# [anchoring] interval_secs of a long run), never one per file.
# Goal: the two medians within 2% of each other.
#
# Env: FILES (default 10000 files of 1-8 KiB), RUNS (default 3 of each,
# interleaved), BENCH_DIR (reuse a folder and its inputs; default a temp
# folder that is removed afterwards), EXHIBIT_BIN (a built exhibit to use
# instead of building the release one). Needs openssl and python3.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=${FILES:-10000}
runs=${RUNS:-3}
remove=()
tsa_pid=
cleanup() {
    [[ -n "$tsa_pid" ]] && kill "$tsa_pid" 2>/dev/null
    rm -rf -- "${remove[@]}"
}
trap cleanup EXIT
if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p -- "$BENCH_DIR"
else
    BENCH_DIR=$(mktemp -d -t exhibit-bench-anchor.XXXXXX)
    remove+=("$BENCH_DIR")
fi

if [[ -n "${EXHIBIT_BIN:-}" ]]; then
    exhibit=$EXHIBIT_BIN
else
    cargo build --release --workspace --locked --bins --examples
    exhibit=$PWD/target/release/exhibit
fi

small=$BENCH_DIR/small-$files
if [[ ! -f "$small.complete" ]]; then
    echo "bench: writing $files files of 1-8 KiB to $small"
    rm -rf -- "$small"
    python3 - "$small" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
for i in range(count):
    folder = os.path.join(root, f"d{i // 1000:03d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i:06d}.bin"), "wb") as f:
        f.write(os.urandom(rng.randint(1024, 8192)))
PY
    touch -- "$small.complete"
fi

# A test CA and a TSA certificate (EKU timeStamping, critical).
tsa=$BENCH_DIR/tsa
rm -rf -- "$tsa" && mkdir -p -- "$tsa"
cat >"$tsa/tsa.cnf" <<CNF
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[ dn ]
CN = exhibit bench CA
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = $tsa
serial = \$dir/tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
ess_cert_id_alg = sha256
CNF
printf '01\n' >"$tsa/tsaserial"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' >"$tsa/ext.cnf"
(
    cd "$tsa"
    openssl req -config tsa.cnf -nodes -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -keyout ca.key -out ca.pem -days 2 2>/dev/null
    openssl req -config tsa.cnf -nodes -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -keyout tsa.key -out tsa.csr -subj "/CN=exhibit bench TSA" 2>/dev/null
    openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 1 \
        -extfile ext.cnf -out tsa.pem 2>/dev/null
)

# The loopback TSA on port 0; it prints the chosen port on stdout.
cat >"$tsa/server.py" <<'PY'
import http.server, os, subprocess, sys
d = sys.argv[1]
class TSA(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_POST(self):
        q = self.rfile.read(int(self.headers["Content-Length"]))
        open(os.path.join(d, "q.tsq"), "wb").write(q)
        subprocess.run(["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq",
                        "-signer", "tsa.pem", "-inkey", "tsa.key", "-out", "r.tsr"], cwd=d, check=True,
                       stderr=subprocess.DEVNULL)
        body = open(os.path.join(d, "r.tsr"), "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer(("127.0.0.1", 0), TSA)
print(server.server_port, flush=True)
server.serve_forever()
PY
coproc TSA_SERVER { exec python3 "$tsa/server.py" "$tsa"; }
tsa_pid=$TSA_SERVER_PID
read -r -t 30 port <&"${TSA_SERVER[0]}" || { echo "bench: the loopback TSA did not start" >&2; exit 1; }
tsa_url="http://127.0.0.1:$port/tsr"

# run MODE: one ingest into a fresh data folder; prints its wall seconds.
run() {
    local mode=$1 data key start end
    data=$(mktemp -d -p "$BENCH_DIR" data.XXXXXX)
    key=$(mktemp -d -p "$BENCH_DIR" key.XXXXXX)
    chmod 700 -- "$key"
    sync
    start=$(date +%s.%N)
    if [[ "$mode" == on ]]; then
        EXHIBIT_DATA=$data EXHIBIT__SIGNING__KEY_FILE=$key/k \
            EXHIBIT__ANCHORING__TSA_URL=$tsa_url EXHIBIT__ANCHORING__CA_FILE=$tsa/ca.pem \
            "$exhibit" ingest --case BENCH-1 --exhibit JS/1 --operator "Bench Operator" "$small" >"$BENCH_DIR/out.txt"
        grep -q '^anchored: ledger entry' "$BENCH_DIR/out.txt" || { echo "bench: no anchor made" >&2; exit 1; }
    else
        EXHIBIT_DATA=$data EXHIBIT__SIGNING__KEY_FILE=$key/k \
            "$exhibit" ingest --case BENCH-1 --exhibit JS/1 --operator "Bench Operator" "$small" >/dev/null
    fi
    end=$(date +%s.%N)
    rm -rf -- "$data" "$key"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

off=() on=()
echo "bench: $runs interleaved runs each of $files files, anchoring off and on (TSA $tsa_url); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$runs"); do
    off+=("$(run off)")
    on+=("$(run on)")
    echo "bench: run $i: off ${off[-1]} s, on ${on[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_off=$(median "${off[@]}")
m_on=$(median "${on[@]}")
awk -v a="$m_off" -v b="$m_on" -v n="$files" 'BEGIN {
    d = (b - a) / a * 100
    printf "anchoring off: median %.2f s (%.0f files/s)\n", a, n / a
    printf "anchoring on:  median %.2f s (%.0f files/s)\n", b, n / b
    printf "difference: %+.2f%% (goal within 2%%) %s\n", d, (d <= 2 && d >= -2 ? "PASS" : "MISS")
}'
echo "bench: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
