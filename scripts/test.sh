#!/usr/bin/env bash
# Install tierwatch into .venv, start the real Kafka, Elasticsearch and PostgreSQL, run the whole
# test suite. Service tests fail (not skip) here: TIERWATCH_REQUIRE_SERVICES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh test

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used) and
# need CJK fonts to render Chinese. Installed here when missing and running as root (CI runs on a
# clean Debian machine as root); otherwise the browser tests fail and say what to install.
if [ ! -x "${TIERWATCH_CHROMIUM:-/usr/bin/chromium}" ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "note: chromium or fonts-noto-cjk missing; the browser tests will fail (apt-get install chromium fonts-noto-cjk)" >&2
  fi
fi
"$VENV/bin/tierwatch" services up
trap '"$VENV/bin/tierwatch" services down || true' EXIT

export TIERWATCH_REQUIRE_SERVICES=1
# The pytest script, not `python -m pytest`: the latter puts the checkout on sys.path.
"$VENV/bin/pytest" -p no:cacheprovider "$@"
