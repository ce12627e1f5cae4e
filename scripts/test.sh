#!/usr/bin/env bash
# Install tierwatch, start the real Kafka, Elasticsearch and PostgreSQL, run the whole test suite.
# Service tests fail (not skip) here: TIERWATCH_REQUIRE_SERVICES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
python3 -m tierwatch.cli services up
trap 'python3 -m tierwatch.cli services down || true' EXIT

export TIERWATCH_REQUIRE_SERVICES=1
python3 -m pytest -p no:cacheprovider "$@"
