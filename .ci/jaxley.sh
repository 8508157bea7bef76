#!/usr/bin/env bash
# Cross-check of the biophysical reference engine against Jaxley, in a virtual environment of its own.
#
# Jaxley brings jax/jaxlib, which the main environment does not carry. This script builds a
# fresh environment with jaxley and the CPU build of torch, installs conn2rnn into it without
# its dependencies (conn2rnn.biophys needs numpy, scipy, pandas, torch, scikit-learn, networkx,
# tqdm and tomli-w at import), and runs tests/biophys_jaxley with CONN2RNN_REQUIRE_JAXLEY=1 so
# that a missing jaxley fails the run instead of skipping it. Not part of .ci/run.
#
# Usage: bash .ci/jaxley.sh   (CONN2RNN_JAXLEY_VENV picks the venv folder,
#                              PYTHON the interpreter that creates it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONN2RNN_JAXLEY_VENV:-${TMPDIR:-/tmp}/conn2rnn-jaxley-venv}"
PYTHON="${PYTHON:-python3}"

if [ -e "$VENV" ]; then
    if [ ! -f "$VENV/pyvenv.cfg" ]; then
        echo "jaxley.sh: $VENV exists and is not a virtual environment; set CONN2RNN_JAXLEY_VENV elsewhere" >&2
        exit 2
    fi
    rm -rf "$VENV"
fi
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }

pip_install "jaxley==0.14.0" "torch==2.13.0"
pip_install "numpy>=1.24" "scipy>=1.10" "pandas>=2.0" "scikit-learn>=1.3" "networkx>=3.1" "tqdm>=4.60" \
    "tomli-w>=1.0" "pytest>=7.4" "threadpoolctl>=3.1"  # the shared tests/conftest.py uses threadpoolctl
pip_install --no-deps -e "$ROOT"

if ! "$PY" -c "import jaxley, conn2rnn.biophys.jaxley_reference"; then
    echo "jaxley.sh: 'import jaxley, conn2rnn.biophys.jaxley_reference' failed in $VENV; install what is missing above" >&2
    exit 1
fi
"$PY" -c "import jaxley, jax, torch; print(f'jaxley {jaxley.__version__}, jax {jax.__version__}, torch {torch.__version__}')"

cd "$ROOT"
CONN2RNN_REQUIRE_JAXLEY=1 "$PY" -m pytest tests/biophys_jaxley -q -p no:cacheprovider
