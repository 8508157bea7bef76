"""Shared fixtures.

Every test runs against an EMPTY temporary data directory: the package's own data
(bundled with it) must be enough, offline, as on a fresh machine. Tests of the
fetchers and of the builder of the bundled data ask for ``seeded_data_dir`` (a
temporary copy of the raw reference inputs beside the project, ``../shared/data``)
or ``reference_data`` (the read-only folder itself), and skip when it is absent.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

# Tests run on small arrays on shared cores: one BLAS thread is faster and
# makes timings and floating-point reductions reproducible.
threadpool_limits(1)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch intra-op thread per test (restored after), when torch is installed."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

REPO = Path(__file__).resolve().parents[1]


def _reference_data() -> Path | None:
    env = os.environ.get("CONN2RNN_REFERENCE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


REFERENCE_DATA = _reference_data()


@pytest.fixture(scope="session")
def _seeded_data_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("conn2rnn_data")
    if REFERENCE_DATA is not None:
        for sub in REFERENCE_DATA.iterdir():
            if sub.is_dir():
                shutil.copytree(sub, target / sub.name)
        for path in target.rglob("*"):  # the reference copy is read-only
            path.chmod(path.stat().st_mode | 0o200)
    return target


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch) -> Path:
    """An empty data directory for this test (``CONN2RNN_DATA`` points at it)."""
    empty = tmp_path_factory.mktemp("empty_data")
    monkeypatch.setenv("CONN2RNN_DATA", str(empty))
    return empty


@pytest.fixture
def seeded_data_dir(_seeded_data_dir: Path, monkeypatch) -> Path:
    """``CONN2RNN_DATA`` pointed at a copy of the reference inputs (empty when they are absent)."""
    monkeypatch.setenv("CONN2RNN_DATA", str(_seeded_data_dir))
    return _seeded_data_dir


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a URL fails the test."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def reference_data() -> Path:
    """The read-only reference data folder; skips the test when it is absent."""
    if REFERENCE_DATA is None:
        pytest.skip("reference data (../shared/data or $CONN2RNN_REFERENCE_DATA) not found")
    return REFERENCE_DATA
