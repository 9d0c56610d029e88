#!/usr/bin/env bash
# Ingests fixtures/sample-folder as exhibit JS/1 of case DEMO-1, verifies it
# and shows it, in a throwaway data directory unless EXHIBIT_DATA is set.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/setup-debian.sh
source scripts/setup-debian.sh

# The OCR and transcode stages run their decoders in child processes, whose
# binaries sit next to `exhibit`.
cargo build --release -p exhibit-cli -p exhibit-ocr -p exhibit-transcode
exhibit=target/release/exhibit

if [[ -z "${EXHIBIT_DATA:-}" ]]; then
    EXHIBIT_DATA=$(mktemp -d -t exhibit-demo-data.XXXXXX)
fi
export EXHIBIT_DATA

if [[ -z "${EXHIBIT__SIGNING__KEY_FILE:-}" ]]; then
    key_dir=$(mktemp -d -t exhibit-demo-key.XXXXXX)
    chmod 700 "$key_dir"
    EXHIBIT__SIGNING__KEY_FILE="$key_dir/signing-key"
fi
export EXHIBIT__SIGNING__KEY_FILE

echo "demo: data in $EXHIBIT_DATA, signing key at $EXHIBIT__SIGNING__KEY_FILE"

run() {
    printf '\n$ %s\n' "$*"
    "$@"
}

# Exit 3 means the ingest finished and lists what needs a person (the
# sample's photo and diagram give OCR pages to review); only other codes stop.
status=0
run "$exhibit" ingest --case DEMO-1 --exhibit JS/1 --operator "Demo Operator" fixtures/sample-folder || status=$?
if [[ $status -ne 0 && $status -ne 3 ]]; then
    exit "$status"
fi
# The organisation pins its keys; here the demo key is the organisation's.
# (Never build this file from the ledger's own actor.public_key.)
trusted="$(dirname "$EXHIBIT__SIGNING__KEY_FILE")/allowed_signers"
printf 'demo@example namespaces="exhibit-ledger" %s\n' "$(ssh-keygen -y -f "$EXHIBIT__SIGNING__KEY_FILE")" > "$trusted"
run "$exhibit" verify --case DEMO-1 --trusted-keys "$trusted"
run "$exhibit" show --case DEMO-1

# Hand the case over: a BagIt bag with its own offline checker, and CASE/UCO.
# An E01 set, a disc image, scans and a video join the sample folder first.
for spec in "JS/2 fixtures/sources/ewf/split.E01" "JS/3 fixtures/iso/iso.iso" \
    "JS/4 fixtures/ocr/letter.jpg" "JS/5 fixtures/media/mpeg4_mp3.avi"; do
    set -- $spec
    status=0
    run "$exhibit" ingest --case DEMO-1 --exhibit "$1" --operator "Demo Operator" "$2" || status=$?
    if [[ $status -ne 0 && $status -ne 3 ]]; then
        exit "$status"
    fi
done
out=$(mktemp -d -t exhibit-demo-export.XXXXXX)
run "$exhibit" export --case DEMO-1 --operator "Demo Operator" --organisation "Demo Force" \
    --bagit "$out/bag" --case-uco "$out/DEMO-1.jsonld"
run "${EXHIBIT_PYTHON_TOOLS}/bin/bagit.py" --validate --quiet "$out/bag"
run sh "$out/bag/verify.sh" "$trusted"
run "${EXHIBIT_PYTHON_TOOLS}/bin/case_validate" "$out/DEMO-1.jsonld"
