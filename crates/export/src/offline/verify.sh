#!/bin/sh
# Checks this bag without exhibit, with coreutils, OpenSSH, OpenSSL and
# Python's standard library only. See VERIFYING.md for what each check
# proves and how to run each one by hand.
#
#   sh verify.sh ALLOWED_SIGNERS [TSA_CA]
#
# ALLOWED_SIGNERS: the organisation's OpenSSH allowed_signers file, from its
# own record of its keys (never from this bag). TSA_CA: the PEM CA
# certificate of the Time-Stamping Authority, from the TSA.
# Exit: 0 all checked and intact; 1 a check failed; 2 usage;
# 3 intact, but anchors were present and no TSA_CA was given.
set -u
export LC_ALL=C

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f "$1" ]; then
    echo "usage: sh verify.sh ALLOWED_SIGNERS [TSA_CA]" >&2
    exit 2
fi
if [ $# -eq 2 ] && [ ! -f "$2" ]; then
    echo "verify.sh: TSA CA file $2 not found" >&2
    exit 2
fi
absolute() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
signers=$(absolute "$1")
ca=""
if [ $# -eq 2 ]; then ca=$(absolute "$2"); fi
bag=$(cd "$(dirname "$0")" && pwd)
cd "$bag" || exit 2
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
failures=0
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

cat > "$work/check.py" <<'PY'
import hashlib, json, os, sys, urllib.parse

work = sys.argv[2]
problems = []

def manifest(name):
    """Lines of a BagIt manifest as (digest, path), paths percent-decoded."""
    out = []
    with open(name, encoding="utf-8") as f:
        for line in f:
            digest, _, path = line.rstrip("\n").partition("  ")
            out.append((digest, urllib.parse.unquote(path)))
    return out

def write_sums(src, dst):
    """A sha256sum -c list of a manifest; names sha256sum cannot take are refused."""
    with open(dst, "w", encoding="utf-8") as out:
        for digest, path in manifest(src):
            if "\\" in path or "\n" in path or path.startswith("/") or ".." in path.split("/"):
                problems.append("manifest %s names an unsafe path %r" % (src, path))
                continue
            out.write("%s  %s\n" % (digest, path))

def bag():
    write_sums("manifest-sha256.txt", os.path.join(work, "payload.sha256"))
    write_sums("tagmanifest-sha256.txt", os.path.join(work, "tags.sha256"))
    listed = {p for _, p in manifest("manifest-sha256.txt")}
    found = set()
    for root, _, files in os.walk("data"):
        for name in files:
            found.add(os.path.join(root, name))
    for extra in sorted(found - listed):
        problems.append("payload file %r is not in manifest-sha256.txt" % extra)
    for missing in sorted(listed - found):
        problems.append("payload file %r is missing" % missing)
    info = {}
    with open("bag-info.txt", encoding="utf-8") as f:
        for line in f:
            label, _, value = line.partition(":")
            info.setdefault(label.strip(), value.strip())
    size = sum(os.path.getsize(p) for p in found)
    if info.get("Payload-Oxum") != "%d.%d" % (size, len(found)):
        problems.append("Payload-Oxum %s does not match %d.%d" % (info.get("Payload-Oxum"), size, len(found)))

def ledger():
    """Writes N.body and N.sig for every entry, and ledger.list: seq prev action."""
    folder = "exhibit/ledger"
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    case = None
    with open(os.path.join(work, "ledger.list"), "w") as listing:
        for i, name in enumerate(names, start=1):
            seq = int(name[:-5]) if name[:-5].isdigit() and len(name) == 25 else None
            if seq != i:
                problems.append("ledger file %s is not entry %d: an entry is missing or misnamed" % (name, i))
                return
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                d = json.load(f)
            sig = d.pop("sig", None)
            if d.get("seq") != seq or not isinstance(sig, str):
                problems.append("ledger file %s holds entry %r, or no signature" % (name, d.get("seq")))
            case = case or d.get("case")
            if d.get("case") != case:
                problems.append("entry %d belongs to case %r, not %r" % (seq, d.get("case"), case))
            if (seq == 1) != (d.get("prev") is None):
                problems.append("entry %d: prev must be null for entry 1 only" % seq)
            body = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            open(os.path.join(work, "%d.body" % seq), "wb").write(body)
            open(os.path.join(work, "%d.sig" % seq), "w").write(sig or "")
            action = d.get("action", "-")
            if action == "key-added":
                key = " ".join(str(d.get("params", {}).get("public_key", "")).split()[:2])
                open(os.path.join(work, "%d.newkey" % seq), "w").write(key)
            listing.write("%d %s %s\n" % (seq, d.get("prev") or "null", action))

def recorded():
    """Each payload file and manifest must be content a signed entry recorded."""
    content, manifests = {}, {}
    for name in sorted(os.listdir("exhibit/ledger")):
        with open(os.path.join("exhibit/ledger", name), encoding="utf-8") as f:
            d = json.load(f)
        a = d.get("artefact") or {}
        if a.get("id") and d.get("outcome", {}).get("status") == "ok":
            content.setdefault(a["id"], set()).add(a.get("sha256"))
            if a.get("manifest_sha256"):
                manifests.setdefault(a["id"], set()).add(a["manifest_sha256"])
    sums = dict((p, h) for h, p in manifest("manifest-sha256.txt"))
    with open("exhibit/path-map.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            bag_path, artefact = line.split("\t")[:2]
            if sums.get(bag_path) not in content.get(artefact, ()):
                problems.append("%s (artefact %s) is not content the ledger recorded" % (bag_path, artefact))
            m = os.path.join("exhibit/artefacts", artefact + ".json")
            digest = hashlib.sha256(open(m, "rb").read()).hexdigest() if os.path.exists(m) else None
            if digest not in manifests.get(artefact, ()):
                problems.append("manifest of artefact %s is not one the ledger recorded" % artefact)

{"bag": bag, "ledger": ledger, "recorded": recorded}[sys.argv[1]]()
for p in problems:
    print("FAIL: " + p)
sys.exit(1 if problems else 0)
PY

echo "== bag: manifests, completeness, Payload-Oxum"
python3 "$work/check.py" bag "$work" || failures=$((failures + 1))
sha256sum -c --quiet --strict "$work/tags.sha256" || fail "a tag file differs from tagmanifest-sha256.txt"
sha256sum -c --quiet --strict "$work/payload.sha256" || fail "a payload file differs from manifest-sha256.txt"

echo "== ledger: signatures (ssh-keygen -Y verify) and the prev chain (sha256sum)"
cp "$signers" "$work/allowed_signers"
python3 "$work/check.py" ledger "$work" || failures=$((failures + 1))
expected=null
head_seq=0
head_sha=""
if [ -f "$work/ledger.list" ]; then
    while read -r seq prev action; do
        if [ "$prev" != "$expected" ]; then
            fail "entry $seq: prev $prev is not the SHA-256 of entry $((seq - 1))'s body ($expected)"
        fi
        principal=$(ssh-keygen -Y find-principals -f "$work/allowed_signers" -s "$work/$seq.sig" 2>/dev/null | head -n 1)
        if [ -z "$principal" ]; then
            fail "entry $seq: signed by a key that ALLOWED_SIGNERS does not list (nor a key it introduced)"
        elif ! ssh-keygen -Y verify -f "$work/allowed_signers" -I "$principal" -n exhibit-ledger \
            -s "$work/$seq.sig" < "$work/$seq.body" > /dev/null 2>&1; then
            fail "entry $seq: the signature does not verify"
        elif [ "$action" = key-added ]; then
            printf 'introduced-by-entry-%s namespaces="exhibit-ledger" %s\n' "$seq" "$(cat "$work/$seq.newkey")" \
                >> "$work/allowed_signers"
        fi
        expected=$(sha256sum < "$work/$seq.body" | cut -d' ' -f1)
        head_seq=$seq
        head_sha=$expected
    done < "$work/ledger.list"
fi
echo "head: seq $head_seq sha256 $head_sha"
if [ -f exhibit/head.txt ] && [ "$(cat exhibit/head.txt)" != "head: seq $head_seq sha256 $head_sha" ]; then
    fail "the ledger's head is not the one the export recorded ($(cat exhibit/head.txt)): entries were cut or added"
fi

echo "== payload and manifests against the ledger"
python3 "$work/check.py" recorded "$work" || failures=$((failures + 1))

echo "== anchors: openssl ts -verify"
unchecked=0
verified=0
for tsr in exhibit/anchors/*.tsr; do
    [ -e "$tsr" ] || continue
    seq=$(expr "$(basename "$tsr" .tsr)" + 0)
    if [ ! -f "$work/$seq.body" ]; then
        fail "$tsr stamps entry $seq, which the ledger does not hold"
    elif [ -z "$ca" ]; then
        unchecked=$((unchecked + 1))
    else
        digest=$(sha256sum < "$work/$seq.body" | cut -d' ' -f1)
        if openssl ts -verify -digest "$digest" -in "$tsr" -CAfile "$ca" > /dev/null 2>&1; then
            echo "ok: $tsr stamps entry $seq"
            verified=$((verified + 1))
        else
            fail "$tsr does not verify as a timestamp of entry $seq against $ca"
        fi
    fi
done

if [ "$failures" -gt 0 ]; then
    echo "FAILED: $failures check(s) failed"
    exit 1
fi
if [ "$unchecked" -gt 0 ]; then
    echo "INTACT, ANCHORS NOT CHECKED: $unchecked anchor(s); give the TSA's CA certificate as the second argument"
    exit 3
fi
echo "OK: bag intact, $head_seq entries signed by trusted keys, chain intact, $verified anchor(s) verified"
exit 0
