#!/usr/bin/env bash
# Runs the cargo-fuzz targets of the media parsers (not part of the default
# tests). Needs `cargo install cargo-fuzz`; libFuzzer's sanitizer flags need
# nightly features, which RUSTC_BOOTSTRAP=1 allows on the stable toolchain.
#
#   scripts/fuzz.sh                 # every target, 600 s each, two at a time
#   scripts/fuzz.sh iso 60          # one target for 60 s
#
# Seeds come from fixtures/. A crash leaves its input in
# fuzz/artifacts/<target>/ and makes this script exit non-zero.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

targets=(iso udf fat ntfs volumes ext sources media view)
[[ $# -ge 1 ]] && targets=("$1")
seconds=${2:-600}

seed() {
    local target=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    case $target in
        iso) cp fixtures/iso/*.iso "$dir"/ ;;
        udf) cp fixtures/udf/*.iso fixtures/udf/udf201-empty.img "$dir"/ ;;
        fat) cp fixtures/fat/fat12.img fixtures/fat/exfat.img fixtures/volumes/floppy.img "$dir"/ ;;
        ntfs) dd if=fixtures/ntfs/disk.img of="$dir/ntfs.img" bs=512 skip="$(sed -n 's/partition_start_sector=//p' fixtures/ntfs/disk.layout)" status=none ;;
        volumes) cp fixtures/volumes/mbr.img fixtures/volumes/gpt.img "$dir"/ ;;
        ext) cp fixtures/volumes/ext2.img fixtures/volumes/ext4.img "$dir"/ ;;
        sources) cp fixtures/sources/ewf/stream.E01 fixtures/sources/cue/*.cue "$dir"/ ;;
        media) cp fixtures/fat/fat16-mbr.img fixtures/iso/iso.iso "$dir"/ ;;
        view) head -c 4096 fixtures/fat/fat12.img > "$dir/fat12-head" ;;
    esac
}

run() {
    local target=$1
    seed "$target"
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=4194304 -print_final_stats=1) \
        >"fuzz/$target.log" 2>&1
    echo "fuzz $target: $(grep -E 'stat::number_of_executed_units|Done' "fuzz/$target.log" | tr '\n' ' ')"
}

(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O)
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    pids=()
    for t in "${targets[@]:i:2}"; do
        run "$t" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
