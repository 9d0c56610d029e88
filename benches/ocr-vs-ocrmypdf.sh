#!/usr/bin/env bash
# Benchmark: a 20-page 300 dpi scanned PDF (G4 TIFF pages and grey PNG pages,
# as scanners make them) to a searchable PDF, with exhibit-ocr, with OCRmyPDF
# (--output-type pdf --jobs = cores) and with bare tesseract page by page in
# parallel over the cores. Prints wall time, pages/min and peak RSS of each.
# Needs: python3-pil, fonts-dejavu-core, img2pdf, poppler-utils, ocrmypdf,
# tesseract-ocr-eng, /usr/bin/time. Usage: benches/ocr-vs-ocrmypdf.sh [PAGES]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pages="${1:-20}"
cores="$(nproc)"
# WORK keeps the inputs and outputs for a closer look; by default they go.
if [[ -n "${WORK:-}" ]]; then
    work="$WORK"; mkdir -p "$work"; rm -rf "$work/ex" "$work/tess" "$work"/p*
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
export OMP_THREAD_LIMIT=1

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
img2pdf -o "$work/scan.pdf" $(ls "$work"/p*.tif "$work"/p*.png | sort -t p -k2)
echo "input: $pages pages, $(du -k "$work/scan.pdf" | cut -f1) KiB, $cores cores"

(cd "$root" && cargo build --release -q -p exhibit-ocr --bins)
bin="$root/target/release"

measure() { # name, command...
    local name="$1"; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || {
        echo "$name failed:"; tail -5 "$work/err.txt"; return 0; }
    read -r secs rss_kib user sys < "$work/time.txt"
    # CPU time (user + sys) varies less than wall time when others load the machine.
    awk -v n="$name" -v s="$secs" -v r="$rss_kib" -v p="$pages" -v u="$user" -v y="$sys" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "%-22s %7.1f s  %6.1f pages/min  CPU %6.1f s  peak RSS %6.0f MiB  (load after: %s)\n", n, s, p*60/s, u+y, r/1024, l }'
}

mkdir -p "$work/ex" "$work/tess"
measure "exhibit-ocr" "$bin/exhibit-ocr" "$work/scan.pdf" "$work/ex" application/pdf
# OCRmyPDF does not detect orientation unless asked (--rotate-pages): compare like with like too.
measure "exhibit-ocr (no OSD)" "$bin/exhibit-ocr" "$work/scan.pdf" "$work/ex" application/pdf '{"rotate":false}'
measure "ocrmypdf --jobs $cores" ocrmypdf --output-type pdf --jobs "$cores" -l eng "$work/scan.pdf" "$work/ocrmypdf.pdf"
# Bare tesseract on the same page images (the files img2pdf embedded unchanged).
measure "tesseract xargs -P$cores" sh -c \
    "ls '$work'/p* | xargs -P$cores -I{} tesseract {} {}.out -l eng pdf"
