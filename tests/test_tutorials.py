"""Every tutorial runs from top to bottom (in a temporary working directory)."""

import runpy
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")
    figures = list((tmp_path / "tutorial_figures").glob("*.png"))
    assert figures and all(f.stat().st_size > 1000 for f in figures)
