#!/usr/bin/env bash
# Set up the grader on a fresh machine: the sandbox's system package (Debian/Ubuntu),
# a virtual environment in .venv with the grader installed, then grade the bundled
# correct example as a smoke test. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "setup: installing bubblewrap (the sandbox)"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } \
        || echo "setup: WARNING: could not install bubblewrap; grading will run with reduced isolation"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      echo "setup: installing bubblewrap (the sandbox)"
      { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } \
        || echo "setup: WARNING: could not install bubblewrap; grading will run with reduced isolation"
    else
      echo "setup: WARNING: bubblewrap is missing and cannot be installed without root;"
      echo "       run 'sudo apt-get install bubblewrap' for full isolation."
    fi
  else
    echo "setup: WARNING: no apt-get here; install bubblewrap with your package manager"
    echo "       for full isolation (the grader still works, with reduced isolation)."
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is bounded in pyproject.toml so pip takes the CPU build, not a multi-GB CUDA one.
.venv/bin/python -m pip install --quiet -e '.[dev]'

echo "setup: grading the bundled example (expect 100 / 100):"
.venv/bin/grade submissions_example/sheet2/correct.py --sheet 2
