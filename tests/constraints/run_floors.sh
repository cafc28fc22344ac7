#!/usr/bin/env bash
# Run the test suite with every dependency at the floor pyproject.toml declares
# (tests/constraints/floors.txt pins each one there), so the declared floors are versions the suite
# actually ran on. Idempotent: the virtual environment .venvs/floors is built once and rebuilt only
# when floors.txt or pyproject.toml change.
#
#   bash tests/constraints/run_floors.sh                 # the floor subset below
#   bash tests/constraints/run_floors.sh tests/faces     # any pytest arguments instead
#   FLOORS_BUILD_ONLY=1 bash tests/constraints/run_floors.sh   # build the venv, run nothing (.ci/run)
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venvs/floors
STAMP="$VENV/.inputs"
PYTHON="${PYTHON:-python3}"
inputs="$(cat tests/constraints/floors.txt pyproject.toml | sha256sum | cut -c1-16)"

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$inputs" ]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c tests/constraints/floors.txt -e '.[test]'
    echo "$inputs" > "$STAMP"
fi
# Every installed distribution at the version floors.txt names, or the run would not prove the floors.
"$VENV/bin/python" - <<'EOF'
import re
import sys
from importlib.metadata import version

wrong = []
for line in open("tests/constraints/floors.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, pinned = re.split(r"==", line)
        if version(name) != pinned:
            wrong.append(f"{name}: {version(name)} installed, floor {pinned}")
sys.exit("not at the floors: " + "; ".join(wrong) if wrong else 0)
EOF
if [ -n "${FLOORS_BUILD_ONLY:-}" ]; then
    exit 0
fi

# The suite minus what does not depend on the dependency versions: the quality gates (ruff, mypy) and
# the wheel build. Warnings are errors for the plugin's start-up (tests/plugin/test_startup.py).
if [ "$#" -eq 0 ]; then
    set -- tests --ignore=tests/quality --ignore=tests/packaging
fi
exec "$VENV/bin/python" -m pytest -q -p no:randomly -p no:cacheprovider --no-cov "$@"
