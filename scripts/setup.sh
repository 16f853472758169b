#!/usr/bin/env bash
# Create ./.venv and install tracker into it. Used by run.sh and test.sh.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test,scale
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

apt_install() {
    # Installs Debian packages when they are missing; needs root (CI and dev machines run as root).
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: please install these Debian packages: ${missing[*]}" >&2
        return 1
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian's python3 ships venv separately.
        apt_install python3-venv
        rm -rf .venv
        "$PYTHON" -m venv .venv
    fi
fi
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [ -n "$extras" ]; then
        .venv/bin/python -m pip install -q -c constraints.txt -e ".[${extras}]"
    else
        .venv/bin/python -m pip install -q -c constraints.txt -e .
    fi
    touch "$stamp"
fi
