#!/usr/bin/env bash
# Run the tests: the README's test command and what CI runs. The feedback pages are
# tested in headless Chromium, which this installs (Debian/Ubuntu, as root or with
# sudo) when it is missing; if it cannot, the browser tests skip and say why.
# Arguments go to pytest (e.g. bash scripts/test.sh -q tests/test_feedback.py).
set -uo pipefail
cd "$(dirname "$0")/.."

have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }

if ! have_chromium; then
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO="sudo"
    else
      SUDO="none"
    fi
    if [ "$SUDO" != none ]; then
      echo "test: installing chromium (the feedback pages are tested in a browser)" >&2
      { $SUDO apt-get update -qq \
        && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "test: WARNING: could not install chromium; the browser tests will be skipped" >&2
    else
      echo "test: WARNING: chromium is missing and cannot be installed without root or sudo;" >&2
      echo "      the browser tests will be skipped ('sudo apt-get install chromium' to run them)" >&2
    fi
  else
    echo "test: WARNING: chromium is missing and there is no apt-get here; install it with" >&2
    echo "      your package manager to run the browser tests (they are skipped)" >&2
  fi
fi

exec .venv/bin/python -m pytest -rs "$@"
