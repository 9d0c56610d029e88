#!/usr/bin/env bash
# Installs what the tests need, then runs every test in the workspace.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Sourced so that a freshly installed ~/.cargo/bin is on PATH here too.
# shellcheck source=scripts/setup-debian.sh
source scripts/setup-debian.sh

cargo test --workspace --locked
