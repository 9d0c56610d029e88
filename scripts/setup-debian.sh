#!/usr/bin/env bash
# Installs what exhibit needs to build and test on Debian 12 (bookworm).
#
# Idempotent: on a machine that already has everything it runs no apt and no
# rustup at all, so CI on a prepared machine stays fast. Run it as root (or
# with sudo available). It may also be sourced, so that a freshly installed
# ~/.cargo/bin lands on the caller's PATH.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

EXHIBIT_APT_PACKAGES=(
    # build and core tests
    build-essential pkg-config ca-certificates curl git openssh-client
    openssl jq time python3 util-linux
    # listing tests: xmllint parses the DFXML
    libxml2-utils
    # media: reference tools used by tests and by scripts/fixtures/*.sh
    sleuthkit xorriso udftools genisoimage python3-pycdlib dosfstools mtools
    exfatprogs exfat-fuse fuse3 ntfs-3g ewf-tools p7zip-full fdisk gdisk attr
    e2fsprogs
    # transcode: FFmpeg libraries (bindgen needs libclang) and the CLI tools
    clang libclang-dev libavcodec-dev libavformat-dev libavutil-dev
    libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev ffmpeg
    # ocr: Tesseract and Leptonica, languages, PDF tools for the tests
    libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng
    tesseract-ocr-osd tesseract-ocr-cym poppler-utils img2pdf ocrmypdf
    python3-pil python3-pikepdf fonts-dejavu-core libtiff-tools jbig2dec
    # benches/ocr-vs-ocrmypdf.sh mix: Ghostscript renders the groff pages
    ghostscript
    # cli: `script` for the pseudo-terminal test, man and groff for the man page
    bsdutils man-db groff-base
    # queue: the AMQP backend's tests run against RabbitMQ on loopback
    rabbitmq-server
    # app: the PostgreSQL read model's tests (pg_isready is in the client)
    postgresql postgresql-client
    # report: headless Chromium loads the integrity report in its test;
    # node runs npm, which installs axe-core (below)
    chromium nodejs
    # export and pronom: a virtual environment for the Python tools below
    python3-venv
    # benches/ingest.sh: the durable peer (cp -r + hashdeep + sync -f)
    hashdeep
)

# Python tools that are not packaged for Debian, pinned, installed with pip
# into their own virtual environment (Debian's Python refuses system-wide
# pip installs): the export tests validate bags with bagit.py and CASE/UCO
# JSON-LD with case_validate; the PRONOM tests compare PUIDs with fido
# (opf-fido 1.6.1 ships signature file v109, the one crates/pronom bundles).
# Tests find them in $EXHIBIT_PYTHON_TOOLS/bin.
EXHIBIT_PYTHON_TOOLS="${EXHIBIT_PYTHON_TOOLS:-/opt/exhibit-python}"
export EXHIBIT_PYTHON_TOOLS
EXHIBIT_PIP_PACKAGES=(
    bagit==1.9.0
    case-utils==0.18.0
    opf-fido==1.6.1
    # the S3 store's tests run against moto's server on loopback
    'moto[server]==5.2.5'
    # the API's tests fuzz `exhibit serve` against its own /openapi.json
    schemathesis==4.32.5
    # crates/tus tests resumable uploads with the real tus client
    tuspy==1.1.0
    # crates/dashboard drives Debian's chromium with it (never
    # `playwright install`: the test passes the browser's path)
    playwright==1.65.3
)

# axe-core checks the report's accessibility; installed from npm into a
# fixed folder so the test needs no network. Override with EXHIBIT_AXE_CORE.
EXHIBIT_NODE_PREFIX=/opt/exhibit-node
EXHIBIT_AXE_CORE_VERSION=4.11.1

setup_log() {
    printf 'setup-debian: %s\n' "$*"
}

# Prints the packages of EXHIBIT_APT_PACKAGES that dpkg does not have
# installed, one per line.
setup_missing_packages() {
    local pkg status
    for pkg in "${EXHIBIT_APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [[ "$status" != installed ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

setup_as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -E "$@"
    else
        setup_log "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

setup_apt() {
    local missing
    mapfile -t missing < <(setup_missing_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        setup_log "apt: all ${#EXHIBIT_APT_PACKAGES[@]} packages already installed, skipped apt"
        return 0
    fi
    setup_log "apt: installing ${missing[*]}"
    setup_as_root apt-get update -q
    setup_as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

setup_rust() {
    local cargo_bin="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin"
    if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_bin/cargo" ]]; then
        export PATH="$cargo_bin:$PATH"
        setup_log "rust: added $cargo_bin to PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        setup_log "rust: cargo not found, installing the stable toolchain with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
            | sh -s -- -y --profile minimal -c rustfmt,clippy
        export PATH="$cargo_bin:$PATH"
    fi

    local component installed=""
    if command -v rustup >/dev/null 2>&1; then
        installed=$(rustup component list --installed 2>/dev/null || true)
    fi
    for component in rustfmt clippy; do
        if grep -q "^${component}-" <<<"$installed"; then
            continue
        elif command -v rustup >/dev/null 2>&1; then
            setup_log "rust: adding component $component"
            rustup component add "$component"
        elif ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            setup_log "rust: $component is missing and there is no rustup to add it" >&2
            return 1
        fi
    done
    setup_log "rust: $(cargo --version), $(cargo fmt --version), $(cargo clippy --version)"
}

setup_npm() {
    local installed
    installed=$(node -p "require('$EXHIBIT_NODE_PREFIX/node_modules/axe-core/package.json').version" \
        2>/dev/null || true)
    if [[ "$installed" == "$EXHIBIT_AXE_CORE_VERSION" ]]; then
        setup_log "npm: axe-core $installed already installed, skipped npm"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        # Debian's nodejs has no npm of its own; a NodeSource nodejs does.
        setup_as_root apt-get install -y -q --no-install-recommends npm
    fi
    setup_log "npm: installing axe-core $EXHIBIT_AXE_CORE_VERSION into $EXHIBIT_NODE_PREFIX"
    setup_as_root mkdir -p "$EXHIBIT_NODE_PREFIX"
    setup_as_root npm install --no-audit --no-fund --prefix "$EXHIBIT_NODE_PREFIX" \
        "axe-core@$EXHIBIT_AXE_CORE_VERSION"
}

setup_python_tools() {
    local venv="$EXHIBIT_PYTHON_TOOLS" stamp="$EXHIBIT_PYTHON_TOOLS/exhibit-packages.txt"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "${EXHIBIT_PIP_PACKAGES[*]}" ]]; then
        setup_log "python tools: ${EXHIBIT_PIP_PACKAGES[*]} already in $venv"
        return 0
    fi
    setup_log "python tools: installing ${EXHIBIT_PIP_PACKAGES[*]} into $venv"
    setup_as_root /usr/bin/python3 -m venv "$venv"
    setup_as_root "$venv/bin/pip" install -q --disable-pip-version-check "${EXHIBIT_PIP_PACKAGES[@]}"
    printf '%s' "${EXHIBIT_PIP_PACKAGES[*]}" | setup_as_root tee "$stamp" >/dev/null
}

# s3s-fs, the second S3 server the store's tests run against: it checks
# every SHA-256 and MD5 it is sent (moto does not), but ignores Object Lock.
# Later versions need a newer rustc than some machines have.
EXHIBIT_S3S_FS_VERSION=0.14.1

setup_s3s_fs() {
    local installed
    installed=$(s3s-fs --version 2>/dev/null || true)
    if [[ "$installed" == "s3s-fs $EXHIBIT_S3S_FS_VERSION" ]]; then
        setup_log "s3s-fs: $EXHIBIT_S3S_FS_VERSION already installed"
        return 0
    fi
    setup_log "s3s-fs: installing $EXHIBIT_S3S_FS_VERSION with cargo install (about 2 min)"
    cargo install s3s-fs --version "$EXHIBIT_S3S_FS_VERSION" --features binary --locked --quiet
}

setup_apt
setup_npm
setup_python_tools
setup_rust
setup_s3s_fs
setup_log "done"
