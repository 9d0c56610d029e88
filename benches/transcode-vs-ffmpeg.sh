#!/usr/bin/env bash
# apt: ffmpeg time
# Transcode benchmark: exhibit-transcode (FFmpeg libraries, child process,
# full-decode validation included; it runs beside the encode) against the ffmpeg CLI with the same
# codec settings, in the same run, on the same inputs:
#   1. a 60 s 1280x720 25 fps MPEG-4 Part 2 + MP3 AVI -> H.264 (libx264,
#      preset medium, CRF 23, 2 threads, yuv420p) + AAC-LC 128k in MP4;
#   2. a 10 min 44.1 kHz stereo MP3 -> AAC-LC 128k in M4A.
# Elapsed time and peak RSS come from /usr/bin/time. Inputs are generated
# with lavfi test sources into $WORK (default a temp dir).
# Usage: benches/transcode-vs-ffmpeg.sh   (builds the release binaries)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${WORK:-$(mktemp -d)}
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release -q --workspace --locked --bins --examples --manifest-path "$root/Cargo.toml"
bin=$root/target/release/exhibit-transcode
export EXHIBIT_TRANSCODE_CHILD=$root/target/release/exhibit-transcode-child
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

video=$work/clip720p.avi
audio=$work/long.mp3
[[ -f $video ]] || ff -f lavfi -i testsrc2=size=1280x720:rate=25:duration=60 \
    -f lavfi -i sine=frequency=440:sample_rate=44100:duration=60 \
    -c:v mpeg4 -q:v 4 -c:a libmp3lame -b:a 128k -ac 2 "$video"
[[ -f $audio ]] || ff -f lavfi -i sine=frequency=440:sample_rate=44100:duration=600 \
    -c:a libmp3lame -b:a 128k -ac 2 "$audio"

policy=$work/bench-policy.toml
cat > "$policy" <<TOML
version = "bench"
threads = 2
[[rule]]
name = "video-access"
class = "video"
container = "mp4"
video = { codec = "libx264", pix_fmt = "yuv420p", crf = 23, preset = "medium" }
audio = { codec = "aac", bitrate = 128000 }
[[rule]]
name = "audio-access"
class = "audio"
container = "m4a"
audio = { codec = "aac", bitrate = 128000 }
TOML

measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" > "$work/out.json"
    read -r secs kib user sys < "$work/time.txt"
    printf '%-34s %8.2f s %8d KiB peak RSS  CPU %6.2f s\n' "$label" "$secs" "$kib" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
}
# The MD5 of a file's video stream packets (not the container around them).
video_md5() { ffmpeg -nostdin -loglevel error -i "$1" -map 0:v -c copy -f md5 -; }

echo "inputs: $(du -h "$video" | cut -f1) 60 s 720p AVI, $(du -h "$audio" | cut -f1) 10 min MP3"
for case in video audio; do
    src=$video; [[ $case == audio ]] && src=$audio
    rm -rf "$work/ex-$case" "$work/cli-$case.m"*
    measure "exhibit-transcode ($case)" "$bin" "$policy" "$src" "$work/ex-$case"
    child=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["child_max_rss_kib"])' "$work/out.json")
    echo "    child peak RSS ${child} KiB (includes the validation decode, which runs beside the encode)"
    if [[ $case == video ]]; then
        # passthrough: encode the source's frames with their timestamps, as
        # exhibit does, instead of duplicating one to fill a constant rate.
        measure "ffmpeg CLI ($case)" ffmpeg -nostdin -loglevel error -y -threads 2 -i "$src" \
            -c:v libx264 -preset medium -crf 23 -pix_fmt yuv420p -threads 2 -fps_mode passthrough \
            -c:a aac -b:a 128k -movflags +faststart -fflags +bitexact -flags +bitexact "$work/cli-$case.mp4"
        same=no
        [[ $(video_md5 "$work/cli-$case.mp4") == $(video_md5 "$work/ex-$case/video-access.mp4") ]] && same=yes
        echo "    H.264 streams bit-identical (same codec settings): $same"
    else
        measure "ffmpeg CLI ($case)" ffmpeg -nostdin -loglevel error -y -i "$src" \
            -c:a aac -b:a 128k -fflags +bitexact -flags +bitexact "$work/cli-$case.m4a"
    fi
done
