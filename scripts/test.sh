#!/usr/bin/env bash
# One command: set up everything the tests need (Python packages, Debian's chromium and
# poppler-utils) and run the whole suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test,scale
apt_install chromium poppler-utils fonts-dejavu-core
# Real Redis and PostgreSQL on loopback for tests/integration (installed when missing).
scripts/services.sh start >/dev/null
exec .venv/bin/python -m pytest "$@"
