#!/usr/bin/env bash
# One command: set up, migrate, load the demo clinic and serve the app with its worker
# on the embedded default (SQLite + local files under ./instance).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/tracker db upgrade
.venv/bin/tracker demo
exec .venv/bin/tracker serve "$@"
