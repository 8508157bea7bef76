#!/usr/bin/env bash
# neurogym compatibility tests, in a virtual environment of their own.
#
# neurogym 2.3.1 pins numpy==2.2.*, matplotlib==3.10.* and gymnasium==0.29.*, which the
# main environment does not share. This script builds a fresh environment with
# neurogym, installs conn2rnn into it without its dependencies (conn2rnn.tasks needs
# only numpy and pandas), and runs tests/neurogym_compat with CONN2RNN_REQUIRE_NEUROGYM=1 so
# that a missing neurogym fails the run instead of skipping it.
#
# Usage: bash .ci/neurogym.sh   (CONN2RNN_NEUROGYM_VENV picks the venv folder,
#                                PYTHON the interpreter that creates it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONN2RNN_NEUROGYM_VENV:-${TMPDIR:-/tmp}/conn2rnn-neurogym-venv}"
PYTHON="${PYTHON:-python3}"

if [ -e "$VENV" ]; then
    if [ ! -f "$VENV/pyvenv.cfg" ]; then
        echo "neurogym.sh: $VENV exists and is not a virtual environment; set CONN2RNN_NEUROGYM_VENV elsewhere" >&2
        exit 2
    fi
    rm -rf "$VENV"
fi
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }

# neurogym imports torch at import time without declaring it as a dependency.
pip_install "torch==2.13.0"
pip_install "neurogym==2.3.1"
pip_install "pandas>=2.0" "pytest>=7.4" "threadpoolctl>=3.1"  # the shared tests/conftest.py uses threadpoolctl
pip_install --no-deps -e "$ROOT"

if ! "$PY" -c "import neurogym, conn2rnn.tasks"; then
    echo "neurogym.sh: 'import neurogym, conn2rnn.tasks' failed in $VENV; install what is missing above" >&2
    exit 1
fi
"$PY" -c "import neurogym, numpy; print(f'neurogym {neurogym.__version__}, numpy {numpy.__version__}')"

cd "$ROOT"
CONN2RNN_REQUIRE_NEUROGYM=1 "$PY" -m pytest tests/neurogym_compat -q -p no:cacheprovider
