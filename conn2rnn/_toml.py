"""TOML reading and writing in one place (``tomllib`` from Python 3.11, ``tomli`` before)."""

from __future__ import annotations

import sys
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["dumps", "loads"]


def loads(text: str, *, what: str = "the text") -> dict[str, Any]:
    """Parse TOML, raising ``ValueError`` that says what was being read.

    Parameters
    ----------
    text : str
    what : str
        Description for the error message ("the spec", "regime file x.toml").
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be TOML text (str); got {type(text).__name__}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{what} is not valid TOML: {exc}") from exc


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text of a mapping (``None`` values must be removed by the caller)."""
    import tomli_w

    return tomli_w.dumps(dict(data))
