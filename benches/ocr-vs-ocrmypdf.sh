#!/usr/bin/env bash
# Benchmark: a scanned PDF to a searchable PDF, with exhibit-ocr (PDF/A-2b,
# as the pipeline makes it), with OCRmyPDF (--output-type pdf --jobs =
# cores) and with bare tesseract page by page, as many at once as cores,
# OMP_THREAD_LIMIT=1, PDF output, on the same page images. Prints wall time,
# pages/min, CPU and peak RSS of each, all in one run.
#
# Two inputs:
#   benches/ocr-vs-ocrmypdf.sh [PAGES]  PAGES (default 20) clean synthetic
#       pages, alternating G4 TIFF and grey PNG.
#   benches/ocr-vs-ocrmypdf.sh mix      the issue-13 mix: 15 pages typeset by
#       groff (real prose: the GPL-3, Apache-2.0 and GFDL texts), rendered by
#       Ghostscript at 300 dpi, then skewed (up to 1.2 degrees), blurred and
#       speckled like a sheet-fed scan: 14 as CCITT G4 TIFF and one as an RGB
#       PNG photographed under uneven light. UNLV pages are not available
#       here, so these stand in for them.
# RUNS=N (default 1) adds N-1 more rounds of exhibit-ocr (with OSD) and bare
# tesseract alone, alternating, and prints the median wall time of each and
# their ratio (the goal is exhibit <= 1.05x bare tesseract).
# Needs: python3-pil, fonts-dejavu-core, groff, ghostscript, img2pdf,
# poppler-utils, ocrmypdf, tesseract-ocr-eng, /usr/bin/time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-20}"
if [[ "$mode" == mix ]]; then pages=15; else pages="$mode"; fi
cores="$(nproc)"
# WORK keeps the inputs and outputs for a closer look; by default they go.
if [[ -n "${WORK:-}" ]]; then
    work="$WORK"; mkdir -p "$work"; rm -rf "$work/ex" "$work/tess" "$work"/p* "$work"/raw-*
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
export OMP_THREAD_LIMIT=1

clean_pages() {
/usr/bin/python3 - "$work" "$pages" 2>/dev/null <<'PYEOF'
import sys, random
from PIL import Image, ImageDraw, ImageFont
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(4)
words = ("the court heard that officer exhibit statement bundle witness seized notebook "
         "receipt hearing clerk disclosure schedule material evidence custody laptop phone "
         "premises colleague morning evening report signed sealed labelled served").split()
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 42)
for i in range(n):
    img = Image.new("L", (2480, 3508), 255)
    d = ImageDraw.Draw(img)
    for line in range(55):
        text = " ".join(rnd.choice(words) for _ in range(11)).capitalize() + "."
        d.text((180, 180 + line * 58), text, font=font, fill=0)
    if i % 2 == 0:
        img.point(lambda v: 255 if v > 128 else 0).convert("1").save(
            "%s/p%02d.tif" % (out, i), compression="group4", dpi=(300, 300))
    else:
        img.save("%s/p%02d.png" % (out, i), dpi=(300, 300), optimize=True)
PYEOF
}

mix_pages() {
    # Real prose typeset by groff on A4, rendered at 300 dpi.
    local text="$work/mix.tr"
    { printf '.pl 11.69i\n.ll 6.3i\n.po 1i\n.ps 11\n.vs 13.5p\n'
      cat /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 /usr/share/common-licenses/GFDL-1.3 \
          | sed "s/^[.']/\\\\\&&/"; } > "$text"
    groff -Tps "$text" > "$work/mix.ps"
    gs -q -dNOPAUSE -dBATCH -sDEVICE=pgmraw -r300 -dFirstPage=1 -dLastPage=15 -sOutputFile="$work/raw-%02d.pgm" "$work/mix.ps"
    /usr/bin/python3 - "$work" 2>/dev/null <<'PYEOF'
import sys, random, glob
from PIL import Image, ImageFilter
out = sys.argv[1]
rnd = random.Random(13)
raws = sorted(glob.glob(out + "/raw-*.pgm"))
for i, raw in enumerate(raws[:-1]):
    img = Image.open(raw).convert("L")
    # Sheet-feeder skew, a little blur, paper grain and speckle, then 1 bit.
    img = img.rotate(rnd.uniform(-1.2, 1.2), resample=Image.BICUBIC, fillcolor=255)
    img = Image.blend(img.filter(ImageFilter.GaussianBlur(0.7)), Image.effect_noise(img.size, 28), 0.18)
    px = img.load()
    for _ in range(2500):
        px[rnd.randrange(img.width), rnd.randrange(img.height)] = 0
    img.point(lambda v: 255 if v > 150 else 0).convert("1").save(
        "%s/p%02d.tif" % (out, i + 1), compression="group4", dpi=(300, 300))
# The last page photographed on a desk: tinted paper, light falling off, sensor noise.
base = Image.open(raws[-1]).convert("L").rotate(2.0, resample=Image.BICUBIC, fillcolor=255)
w, h = base.size
light = Image.radial_gradient("L").resize((w, h)).point(lambda v: 255 - v // 3)
paper = Image.merge("RGB", [light.point(lambda v, f=f: int(v * f)) for f in (1.0, 0.96, 0.86)])
ink = Image.merge("RGB", [base.point(lambda v, f=f: int(v * f)) for f in (0.35, 0.3, 0.4)])
photo = Image.composite(paper, ink, base.point(lambda v: 255 if v > 128 else 0))
photo = Image.blend(photo, Image.merge("RGB", [Image.effect_noise((w, h), 40)] * 3), 0.12)
photo.filter(ImageFilter.GaussianBlur(1.0)).save("%s/p%02d.png" % (out, len(raws)), dpi=(300, 300))
PYEOF
    rm -f "$work"/raw-*.pgm "$work/mix.ps" "$text"
}

if [[ "$mode" == mix ]]; then mix_pages; else clean_pages; fi
img2pdf -o "$work/scan.pdf" $(ls "$work"/p*.tif "$work"/p*.png | sort -t p -k2)
echo "input: $pages pages, $(du -k "$work/scan.pdf" | cut -f1) KiB, $cores cores"

(cd "$root" && cargo build --release -q --workspace --locked --bins --examples)
bin="${CARGO_TARGET_DIR:-$root/target}/release"

measure() { # name, command...
    local name="$1"; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || {
        echo "$name failed:"; tail -5 "$work/err.txt"; return 0; }
    read -r secs rss_kib user sys < "$work/time.txt"
    echo "$secs" >>"$work/walls-${name// /_}.txt"
    # CPU time (user + sys) varies less than wall time when others load the machine.
    awk -v n="$name" -v s="$secs" -v r="$rss_kib" -v p="$pages" -v u="$user" -v y="$sys" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "%-22s %7.1f s  %6.1f pages/min  CPU %6.1f s  peak RSS %6.0f MiB  (load after: %s)\n", n, s, p*60/s, u+y, r/1024, l }'
}

mkdir -p "$work/ex" "$work/tess"
rm -f "$work"/walls-*.txt
measure "exhibit-ocr" "$bin/exhibit-ocr" "$work/scan.pdf" "$work/ex" application/pdf
# OCRmyPDF does not detect orientation unless asked (--rotate-pages): compare like with like too.
measure "exhibit-ocr (no OSD)" "$bin/exhibit-ocr" "$work/scan.pdf" "$work/ex" application/pdf '{"rotate":false}'
measure "ocrmypdf --jobs $cores" ocrmypdf --output-type pdf --jobs "$cores" -l eng "$work/scan.pdf" "$work/ocrmypdf.pdf"
# Bare tesseract on the same page images (the files img2pdf embedded unchanged).
measure "tesseract xargs -P$cores" sh -c \
    "ls '$work'/p*.tif '$work'/p*.png 2>/dev/null | xargs -P$cores -I{} tesseract {} {}.out -l eng pdf"

runs="${RUNS:-1}"
for ((round = 2; round <= runs; round++)); do
    echo "round $round of $runs"
    measure "exhibit-ocr" "$bin/exhibit-ocr" "$work/scan.pdf" "$work/ex" application/pdf
    measure "tesseract xargs -P$cores" sh -c \
        "ls '$work'/p*.tif '$work'/p*.png 2>/dev/null | xargs -P$cores -I{} tesseract {} {}.out -l eng pdf"
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [[ "$runs" -gt 1 ]]; then
    ex="$(median "$work/walls-exhibit-ocr.txt")"
    tess="$(median "$work/walls-tesseract_xargs_-P$cores.txt")"
    awk -v e="$ex" -v t="$tess" -v n="$runs" \
        'BEGIN { printf "medians of %d: exhibit-ocr %.1f s, bare tesseract %.1f s: exhibit takes %.3fx its time (goal <= 1.05x)\n", n, e, t, e / t }'
fi
