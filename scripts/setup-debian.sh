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
    python3-pil fonts-dejavu-core libtiff-tools jbig2dec
    # cli: `script` for the pseudo-terminal test, man and groff for the man page
    bsdutils man-db groff-base
    # pronom: fido (opf-fido on PyPI, not packaged by Debian) is the oracle
    # the PUID tests compare with; it goes into its own venv
    python3-venv
)

# fido, pinned: its signature file (v109) is the one crates/pronom bundles.
EXHIBIT_FIDO_VERSION=1.6.1
EXHIBIT_FIDO_VENV=/opt/exhibit-fido

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

# Installs fido into its own venv (Debian's python3 refuses system-wide pip
# installs) and puts it on PATH as /usr/local/bin/fido. Skipped when a fido
# of the pinned version already runs.
setup_fido() {
    if command -v fido >/dev/null 2>&1 && fido -v 2>&1 | grep -q "v${EXHIBIT_FIDO_VERSION}"; then
        setup_log "fido: ${EXHIBIT_FIDO_VERSION} already installed, skipped pip"
        return 0
    fi
    setup_log "fido: installing opf-fido ${EXHIBIT_FIDO_VERSION} into ${EXHIBIT_FIDO_VENV}"
    setup_as_root python3 -m venv "$EXHIBIT_FIDO_VENV"
    setup_as_root "$EXHIBIT_FIDO_VENV/bin/pip" install -q "opf-fido==${EXHIBIT_FIDO_VERSION}"
    setup_as_root ln -sf "$EXHIBIT_FIDO_VENV/bin/fido" /usr/local/bin/fido
}

setup_apt
setup_fido
setup_rust
setup_log "done"
