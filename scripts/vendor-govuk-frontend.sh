#!/usr/bin/env bash
# Re-vendors GOV.UK Frontend's built files into crates/dashboard/assets/:
# the minified CSS and JS and the fonts, images and manifest they refer
# to, nothing else (no Sass, no Nunjucks, no source maps). The version is
# written to crates/dashboard/assets/VERSION; record it in
# docs/ARCHITECTURE.md ("Dashboard") when it changes.
#
# usage: scripts/vendor-govuk-frontend.sh [VERSION]   (default: the one in VERSION)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/crates/dashboard/assets/govuk"
version_file="$root/crates/dashboard/assets/VERSION"
version="${1:-$(sed -n 's/^govuk-frontend \([0-9.]*\)$/\1/p' "$version_file" 2>/dev/null || true)}"
if [[ -z "$version" ]]; then
    echo "usage: $0 VERSION (no version in $version_file)" >&2
    exit 2
fi
if [[ ! "$version" =~ ^5\.[0-9]+\.[0-9]+$ ]]; then
    echo "expected a 5.x version such as 5.14.0, got $version" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "govuk-frontend@$version" >/dev/null)
tarball="$work/govuk-frontend-$version.tgz"
tar -xzf "$tarball" -C "$work"
dist="$work/package/dist/govuk"

rm -rf "$dest"
mkdir -p "$dest"
cp "$dist/govuk-frontend.min.css" "$dist/govuk-frontend.min.js" "$dest/"
cp -R "$dist/assets/fonts" "$dist/assets/images" "$dist/assets/manifest.json" "$dest/"
# Neither the rebrand copies nor source maps are served.
{
    echo "govuk-frontend $version"
    echo "tarball-sha256 $(sha256sum "$tarball" | cut -d' ' -f1)"
    echo "licence MIT (code); fonts and crown images are for services on GOV.UK only"
} >"$version_file"
echo "vendored govuk-frontend $version into $dest"
(cd "$dest" && find . -type f | sort)
