#!/usr/bin/env bash
# The block cache of reads through the store (issue 12): walk every volume
# of a fixture image and read every file, as explore does, three ways in the
# same run: the image read in place with pread (the peer), and through a
# store without local files (every read a ranged get, as on S3), with the
# block cache off and on. Reports seconds, ranged gets and bytes fetched.
#
# Env: IMAGES (default: the NTFS, FAT32 and ISO fixtures), RUNS (default 3),
# PROFILE (default release; "dev" to reuse a debug build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=${PROFILE:-release}
flags=()
[[ "$profile" == release ]] && flags+=(--release)
cargo build -q "${flags[@]}" --workspace --locked --bins --examples
target=${CARGO_TARGET_DIR:-target}
dir=debug
[[ "$profile" == release ]] && dir=release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
default_images=(fixtures/iso/iso.iso fixtures/fat/fat16-mbr.img)
if [[ -f fixtures/fat/fat32.img.gz ]]; then
    gunzip -c fixtures/fat/fat32.img.gz > "$tmp/fat32.img"
    default_images+=("$tmp/fat32.img")
fi
for ntfs in fixtures/ntfs/*.img; do
    [[ -f "$ntfs" ]] && default_images+=("$ntfs") && break
done
read -r -a images <<< "${IMAGES:-${default_images[*]}}"
for image in "${images[@]}"; do
    "$target/$dir/examples/explore_cache" "$image" "${RUNS:-3}"
    echo
done
