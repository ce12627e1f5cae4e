#!/usr/bin/env bash
# Install tierwatch into .venv and run it on the embedded default (SQLite, database-backed queue,
# FTS5 index): migrations, demo data, then web (http://127.0.0.1:8000) + worker until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh
# Plain HTTP on this machine: cookies without the Secure flag, so every browser keeps the session
# (README "Signing in"). Served over HTTPS, leave TIERWATCH_SECURE_COOKIES at its default (on).
export TIERWATCH_SECURE_COOKIES="${TIERWATCH_SECURE_COOKIES:-0}"
exec "$VENV/bin/tierwatch" run --demo --host 127.0.0.1 --port 8000
