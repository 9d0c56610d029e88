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
import hashlib, json, os, re, sys, urllib.parse

work = sys.argv[2]
problems = []
ENTRY = re.compile(r"[0-9]{20}\.json")
PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.I)

def manifest(name):
    """Lines of a BagIt manifest as (digest, path), paths percent-decoded."""
    out = []
    with open(name, encoding="utf-8") as f:
        for line in f:
            digest, _, path = line.rstrip("\n").partition("  ")
            out.append((digest, urllib.parse.unquote(path)))
    return out

def info():
    """bag-info.txt as label -> list of values."""
    out = {}
    with open("bag-info.txt", encoding="utf-8") as f:
        for line in f:
            label, _, value = line.partition(":")
            out.setdefault(label.strip(), []).append(value.strip())
    return out

def write_sums(src, dst):
    """A sha256sum -c list of a manifest; names sha256sum cannot take are refused."""
    with open(dst, "w", encoding="utf-8") as out:
        for digest, path in manifest(src):
            if "\\" in path or "\n" in path or path.startswith("/") or ".." in path.split("/"):
                problems.append("manifest %s names an unsafe path %r" % (src, path))
                continue
            out.write("%s  %s\n" % (digest, path))

def walk_bag():
    """Every file of the bag; symlinks and special files are problems."""
    files = []
    for root, dirs, names in os.walk("."):
        for name in dirs + names:
            p = os.path.relpath(os.path.join(root, name))
            if os.path.islink(p):
                problems.append("%r is a symbolic link: a bag holds none" % p)
            elif name in names and not os.path.isfile(p):
                problems.append("%r is not a regular file" % p)
            elif name in names:
                files.append(p)
    return files

def bag():
    write_sums("manifest-sha256.txt", os.path.join(work, "payload.sha256"))
    write_sums("tagmanifest-sha256.txt", os.path.join(work, "tags.sha256"))
    files = walk_bag()
    found = {p for p in files if p.startswith("data/")}
    tags = {p for p in files if not p.startswith("data/") and not p.startswith("tagmanifest-")}
    listed = {p for _, p in manifest("manifest-sha256.txt")}
    for extra in sorted(found - listed):
        problems.append("payload file %r is not in manifest-sha256.txt" % extra)
    for missing in sorted(listed - found):
        problems.append("payload file %r is missing" % missing)
    for extra in sorted(tags - {p for _, p in manifest("tagmanifest-sha256.txt")}):
        problems.append("tag file %r is not in tagmanifest-sha256.txt" % extra)
    size = sum(os.path.getsize(p) for p in found)
    oxum = info().get("Payload-Oxum", [None])[0]
    if oxum != "%d.%d" % (size, len(found)):
        problems.append("Payload-Oxum %s does not match %d.%d" % (oxum, size, len(found)))

def ledger():
    """Writes N.body and N.sig for every entry, and ledger.list: seq prev action."""
    folder = "exhibit/ledger"
    if os.path.islink(folder) or not os.path.isdir(folder):
        problems.append("the bag holds no ledger folder %s" % folder)
        return
    names = sorted(os.listdir(folder))
    for name in names:
        path = os.path.join(folder, name)
        if not ENTRY.fullmatch(name) or os.path.islink(path) or not os.path.isfile(path):
            problems.append("%s in the ledger folder is not a signed ledger entry" % path)
    names = [n for n in names if ENTRY.fullmatch(n)]
    if not names:
        problems.append("the ledger holds no entries: nothing in this bag is signed")
    case = None
    with open(os.path.join(work, "ledger.list"), "w") as listing:
        for i, name in enumerate(names, start=1):
            seq = int(name[:-5])
            if seq != i:
                problems.append("ledger file %s is not entry %d: an entry is missing or misnamed" % (name, i))
                return
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                d = json.load(f)
            sig = d.pop("sig", None) if isinstance(d, dict) else None
            if not isinstance(d, dict) or d.get("seq") != seq or not isinstance(sig, str):
                problems.append("ledger file %s holds no entry %d, or no signature" % (name, seq))
                return
            case = case or d.get("case")
            if d.get("case") != case:
                problems.append("entry %d belongs to case %r, not %r" % (seq, d.get("case"), case))
            if (seq == 1) != (d.get("prev") is None):
                problems.append("entry %d: prev must be null for entry 1 only" % seq)
            for n, why in batch_faults(d):
                problems.append("entry %d, event %d: %s" % (seq, n, why))
            body = canonical(d)
            open(os.path.join(work, "%d.body" % seq), "wb").write(body)
            open(os.path.join(work, "%d.sig" % seq), "w").write(sig)
            action = d.get("action", "batch" if "batch" in d else "-")
            if action == "key-added":
                key = " ".join(str(d.get("params", {}).get("public_key", "")).split()[:2])
                open(os.path.join(work, "%d.newkey" % seq), "w").write(key)
            listing.write("%d %s %s\n" % (seq, d.get("prev") or "null", action))
    open(os.path.join(work, "case"), "w").write(str(case))

def canonical(d):
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

def batch_faults(d):
    """A batch entry signs its events and lists the SHA-256 of each event's
    canonical JSON: (event number, why) for each event that no longer matches."""
    if "batch" not in d:
        return []
    events, listed = d.get("batch"), d.get("event_sha256")
    if not isinstance(events, list) or not isinstance(listed, list) or not events:
        return [(0, "the batch or its event_sha256 list is malformed")]
    found = [hashlib.sha256(canonical(e)).hexdigest() for e in events]
    out = [(n, "its hash is not the one the entry lists") for n, (f, l) in enumerate(zip(found, listed), 1) if f != l]
    if len(found) != len(listed):
        out.append((min(len(found), len(listed)) + 1, "the entry lists %d events but holds %d" % (len(listed), len(found))))
    return out

def signed_entries():
    """The events of the entries the shell checked the signatures of, in
    order; a batch entry's events each come with the entry's number."""
    with open(os.path.join(work, "ledger.list")) as f:
        seqs = [line.split()[0] for line in f]
    for seq in seqs:
        with open(os.path.join(work, seq + ".body"), encoding="utf-8") as f:
            d = json.load(f)
        for event in (d["batch"] if isinstance(d.get("batch"), list) else [d]):
            yield int(seq), event

def original_of(m):
    """The original path the path map must show, from a signed manifest."""
    if m.get("source"):
        return m["source"]["path"].get("display")
    inside = m.get("inside") or {}
    if inside:
        path = inside.get("path", {}).get("display")
        stream = (inside.get("stream") or {}).get("display")
        return path + ":" + stream if stream and path is not None else path
    return ""

def check_row(bag_path, artefact, exhibit, original, m):
    """A path-map row must say what the signed manifest says."""
    if m.get("id") != artefact or m.get("exhibit") != exhibit:
        problems.append("path-map row %s: artefact %s of exhibit %r is not what its manifest says" % (bag_path, artefact, exhibit))
    if original is not None and original != original_of(m):
        problems.append("path-map row %s: original path %r is not the recorded %r" % (bag_path, original, original_of(m)))
    folder = {"original": "originals", "extracted": "inside", "derivative": "derived"}.get(m.get("kind"))
    parts = bag_path.split("/")
    if len(parts) < 4 or parts[2] != folder and parts[2] != "long-paths":
        problems.append("path-map row %s: a %s artefact is not under %s/" % (bag_path, m.get("kind"), folder))
    leaf = (original_of(m) or "").rsplit("/", 1)[-1]
    name = re.sub(r"~[0-9]+(?=\.[^.]*$|$)", "", parts[-1])
    if m.get("kind") == "derivative" and m.get("id") not in parts[-1]:
        problems.append("path-map row %s does not name derivative %s" % (bag_path, artefact))
    elif m.get("kind") != "derivative" and PLAIN.fullmatch(leaf) and not DEVICE.fullmatch(leaf) and leaf not in (name, parts[-1]):
        problems.append("path-map row %s is not named as the recorded original %r" % (bag_path, leaf))

def recorded():
    """Payload, path map, listing and bag-info against what signed entries recorded."""
    content, manifests, exhibit_of = {}, {}, {}
    for seq, d in signed_entries():
        a = d.get("artefact") or {}
        if a.get("id") and (d.get("outcome") or {}).get("status") == "ok":
            content.setdefault(a["id"], set()).add(a.get("sha256"))
            exhibit_of.setdefault(a["id"], (d.get("exhibit"), seq))
            if a.get("manifest_sha256"):
                manifests.setdefault(a["id"], set()).add(a["manifest_sha256"])
    sums = dict((p, h) for h, p in manifest("manifest-sha256.txt"))
    rows, exported = {}, {}
    with open("exhibit/path-map.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) != 5 or cells[0] in rows:
                problems.append("path-map row %r is malformed or repeated" % line.rstrip("\n"))
                continue
            bag_path, artefact, exhibit, original_json, original_hex = cells
            rows[bag_path] = artefact
            if sums.get(bag_path) not in content.get(artefact, ()):
                problems.append("%s (artefact %s) is not content the ledger recorded" % (bag_path, artefact))
            m = os.path.join("exhibit/artefacts", artefact + ".json")
            raw = open(m, "rb").read() if re.fullmatch(r"[0-9a-f]{32}", artefact) and os.path.isfile(m) else None
            if raw is None or hashlib.sha256(raw).hexdigest() not in manifests.get(artefact, ()):
                problems.append("manifest of artefact %s is not one the ledger recorded" % artefact)
                continue
            exported[artefact] = json.loads(raw)
            original = json.loads(original_json) if original_hex == "-" else None
            check_row(bag_path, artefact, exhibit, original, exported[artefact])
    for extra in sorted(set(sums) - set(rows)):
        problems.append("payload file %s is not in exhibit/path-map.tsv" % extra)
    check_listing(rows, exported)
    check_scope(exported, exhibit_of)

def check_listing(rows, exported):
    """Each listing.tsv row must repeat its signed manifest."""
    seen = set()
    with open("exhibit/listing.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            c = line.rstrip("\n").split("\t")
            m = exported.get(c[1]) if len(c) == 10 and rows.get(c[0]) == c[1] else None
            dg = (m or {}).get("digests", {})
            want = m and [m.get("exhibit"), m.get("kind"), str(m.get("size")), dg.get("sha256"),
                          dg.get("md5") or "-", dg.get("sha1") or "-"]
            parent = m and ((m.get("parent") or {}).get("id") or "-")
            if not m or c[2:8] != want or c[9] != parent:
                problems.append("listing.tsv row %r is not what the signed manifest records" % line[:200])
            seen.add(c[0])
    for missing in sorted(set(rows) - seen):
        problems.append("listing.tsv has no row for %s" % missing)

def check_scope(exported, exhibit_of):
    """bag-info's case and exhibits, and every recorded artefact of them present."""
    bi, case = info(), open(os.path.join(work, "case")).read()
    print("case: %s" % case)
    if bi.get("Exhibit-Case") != [case] or bi.get("External-Identifier") != [case]:
        problems.append("bag-info.txt names case %s, but the signed ledger is of case %r" % (bi.get("Exhibit-Case"), case))
    named = set(bi.get("Exhibit-Exhibit", []))
    held = {m.get("exhibit") for m in exported.values()}
    if named != held:
        problems.append("bag-info.txt names exhibits %s, but the bag holds %s" % (sorted(named), sorted(held)))
    scope = bi.get("Exhibit-Scope", [None])
    if scope not in (["case"], ["exhibit"]):
        problems.append("bag-info.txt has no Exhibit-Scope of case or exhibit")
    for artefact, (exhibit, seq) in sorted(exhibit_of.items()):
        if artefact not in exported and (scope == ["case"] or exhibit in named):
            problems.append("artefact %s of exhibit %s, recorded by entry %d, is missing from the bag" % (artefact, exhibit, seq))

try:
    {"bag": bag, "ledger": ledger, "recorded": recorded}[sys.argv[1]]()
except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, StopIteration) as e:
    problems.append("%s check: the bag cannot be read as exhibit wrote it (%s: %s)" % (sys.argv[1], type(e).__name__, e))
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
recorded_head=$(grep '^Exhibit-Ledger-Head:' bag-info.txt | sed 's/^Exhibit-Ledger-Head: *//')
if [ ! -f exhibit/head.txt ] || [ -L exhibit/head.txt ]; then
    fail "exhibit/head.txt is missing: the head the export recorded cannot be checked"
elif [ "$(cat exhibit/head.txt)" != "head: seq $head_seq sha256 $head_sha" ]; then
    fail "the ledger's head is not the one the export recorded ($(cat exhibit/head.txt)): entries were cut or added"
fi
if [ "$recorded_head" != "seq $head_seq sha256 $head_sha" ]; then
    fail "bag-info.txt's Exhibit-Ledger-Head ($recorded_head) is not the verified head"
fi

echo "== payload and manifests against the ledger"
if [ -f "$work/case" ]; then
    python3 "$work/check.py" recorded "$work" || failures=$((failures + 1))
else
    fail "the evidence was not checked: the ledger could not be read"
fi

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

if [ -n "$ca" ] && [ ! -f "exhibit/anchors/$(printf '%020d' "$head_seq").tsr" ]; then
    fail "no anchor stamps the head entry $head_seq: entries cut from the end could not be noticed"
fi

if [ "$failures" -gt 0 ]; then
    echo "FAILED: $failures check(s) failed"
    exit 1
fi
if [ "$unchecked" -gt 0 ]; then
    echo "INTACT, ANCHORS NOT CHECKED: $unchecked anchor(s); give the TSA's CA certificate as the second argument"
    exit 3
fi
echo "OK: case $(cat "$work/case"): bag intact, $head_seq entries signed by trusted keys, chain intact, $verified anchor(s) verified"
exit 0
