#!/usr/bin/env bash
# Install tierwatch into .venv, start the real Kafka, Elasticsearch and PostgreSQL, run the whole
# test suite. Service tests fail (not skip) here: TIERWATCH_REQUIRE_SERVICES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh test
"$VENV/bin/tierwatch" services up
trap '"$VENV/bin/tierwatch" services down || true' EXIT

export TIERWATCH_REQUIRE_SERVICES=1
# The pytest script, not `python -m pytest`: the latter puts the checkout on sys.path.
"$VENV/bin/pytest" -p no:cacheprovider "$@"
