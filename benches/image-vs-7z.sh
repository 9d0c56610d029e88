#!/usr/bin/env bash
# Image ingest against the peer pair `7z x` + `sha256sum`, in the same run:
# an ISO with many files and a FAT32 image. exhibit acquires the image,
# explores it, and hashes and stores every file; the peer extracts every file
# and hashes it. Prints MB/s of image and peak RSS for each.
#
# Env: ISO_MIB (default 2048), ISO_FILES (default 10000), FAT_MIB (default
# 1024), BENCH_DIR (reuse inputs; default a temp folder removed afterwards).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

iso_mib=${ISO_MIB:-2048}
iso_files=${ISO_FILES:-10000}
fat_mib=${FAT_MIB:-1024}
if [[ -z "${BENCH_DIR:-}" ]]; then
    BENCH_DIR=$(mktemp -d -t exhibit-bench-image.XXXXXX)
    trap 'rm -rf -- "$BENCH_DIR"' EXIT
fi
mkdir -p "$BENCH_DIR"
cargo build --release -q --workspace --locked --bins --examples
exhibit=$PWD/target/release/exhibit

# Files of random data: `count` files adding up to about `mib` MiB.
make_tree() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, random, sys
root, count, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
size = mib * 1024 * 1024 // count
for i in range(count):
    d = os.path.join(root, f"d{i // 500:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
        # A text header keeps random bytes from looking like media by chance.
        f.write(b"exhibit bench data\n")
        f.write(os.urandom(max(1, size + rng.randint(-size // 2, size // 2))))
PY
}

iso=$BENCH_DIR/bench.iso
if [[ ! -f $iso ]]; then
    echo "bench: making a ${iso_mib} MiB ISO with ${iso_files} files"
    make_tree "$BENCH_DIR/iso-src" "$iso_files" "$iso_mib"
    xorriso -as mkisofs -quiet -R -J -o "$iso" "$BENCH_DIR/iso-src"
    rm -rf "$BENCH_DIR/iso-src"
fi
fat=$BENCH_DIR/bench-fat32.img
if [[ ! -f $fat ]]; then
    echo "bench: making a ${fat_mib} MiB FAT32 image"
    make_tree "$BENCH_DIR/fat-src" 2000 $((fat_mib * 9 / 10))
    truncate -s "${fat_mib}M" "$fat"
    mkfs.fat -F 32 -i 12345678 "$fat" >/dev/null
    MTOOLS_SKIP_CHECK=1 mcopy -s -i "$fat" "$BENCH_DIR/fat-src"/* ::/
    rm -rf "$BENCH_DIR/fat-src"
fi

timed() { # label, command...: prints seconds and peak RSS KiB
    local label=$1 t
    t=$(mktemp)
    shift
    /usr/bin/time -o "$t" -f '%e %M' "$@" >/dev/null 2>&1 || echo "bench: $label exited non-zero" >&2
    echo "$label $(tail -1 "$t")"
    rm -f "$t"
}

# Each run writes into a folder of its own, and old runs are removed only at
# the end: ext4 skips recently freed inodes when it allocates new ones, so
# deleting one run's 10,000 files just before the next would slow whichever
# tool runs next for reasons that have nothing to do with it.
run=0
fresh() { run=$((run + 1)); dir="$BENCH_DIR/run-$run"; } # sets $dir
for image in "$iso" "$fat"; do
    mib=$(( $(stat -c %s "$image") / 1048576 ))
    sync
    cat "$image" >/dev/null
    fresh; data=$dir
    read -r _ secs rss < <(timed exhibit env EXHIBIT_DATA="$data" EXHIBIT__SIGNING__KEY_FILE="$BENCH_DIR/key" \
        "$exhibit" ingest --case BENCH --exhibit B/1 --operator bench "$image")
    fresh; data=$dir
    read -r _ ssecs srss < <(timed exhibit-sha256 env EXHIBIT_DATA="$data" EXHIBIT__SIGNING__KEY_FILE="$BENCH_DIR/key" \
        EXHIBIT__HASHING__MD5=false EXHIBIT__HASHING__SHA1=false \
        "$exhibit" ingest --case BENCH --exhibit B/1 --operator bench "$image")
    fresh; out=$dir
    read -r _ zsecs zrss < <(timed 7z bash -c "7z x -y -o'$out' '$image' >/dev/null && find '$out' -type f -print0 | xargs -0 sha256sum >/dev/null")
    fresh; out=$dir
    read -r _ dsecs _ < <(timed 7z-sync bash -c "7z x -y -o'$out' '$image' >/dev/null && find '$out' -type f -print0 | xargs -0 sha256sum >/dev/null && sync -f '$out'")
    mbs() { echo "$mib*1.048576/$1" | bc -l; }
    printf '%s (%d MiB):\n' "$(basename "$image")" "$mib"
    printf '  exhibit (MD5+SHA-1+SHA-256)  %6.1f s %6.0f MB/s  peak RSS %6d KiB  speed vs pair %.2f\n' \
        "$secs" "$(mbs "$secs")" "$rss" "$(echo "$zsecs/$secs" | bc -l)"
    printf '  exhibit (SHA-256 only)       %6.1f s %6.0f MB/s  peak RSS %6d KiB  speed vs pair %.2f\n' \
        "$ssecs" "$(mbs "$ssecs")" "$srss" "$(echo "$zsecs/$ssecs" | bc -l)"
    printf '  7z x + sha256sum             %6.1f s %6.0f MB/s  peak RSS %6d KiB\n' "$zsecs" "$(mbs "$zsecs")" "$zrss"
    printf '  7z x + sha256sum + sync -f   %6.1f s %6.0f MB/s  (the pair made durable, as exhibit is)\n' \
        "$dsecs" "$(mbs "$dsecs")"
done
rm -rf "$BENCH_DIR"/run-*
