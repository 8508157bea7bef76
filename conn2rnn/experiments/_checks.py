"""Collecting every problem of a spec at once, each with its TOML path."""

from __future__ import annotations

import math
from typing import Any, Collection, Iterable

__all__ = ["Problems", "SpecError"]


class SpecError(ValueError):
    """An experiment spec is invalid; ``problems`` lists every reason, one per line.

    Attributes
    ----------
    problems : list of str
        ``"<toml path>: <what is wrong and what is expected>"``.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(f"invalid spec: {self.problems[0]}")
        else:
            super().__init__(f"the spec has {len(self.problems)} problems:\n"
                             + "\n".join(f"  - {p}" for p in self.problems))


class Problems:
    """Accumulates problems found in one section of a spec.

    Parameters
    ----------
    section : str
        TOML path prefix of the section ("" for the top level, "training", ...).
    """

    def __init__(self, section: str = "") -> None:
        self.section = section
        self.items: list[str] = []

    def path(self, field: str) -> str:
        if not field:
            return f"[{self.section}]" if self.section else "the spec"
        return f"{self.section}.{field}" if self.section else field

    def add(self, field: str, message: str) -> None:
        self.items.append(f"{self.path(field)}: {message}")

    def extend(self, other: "Problems | SpecError") -> None:
        self.items.extend(other.items if isinstance(other, Problems) else other.problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)

    # ------------------------------------------------------------------ checks
    def integer(self, field: str, value: Any, *, low: int | None = None) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, f"must be an integer; got {value!r}")
            return False
        if low is not None and value < low:
            self.add(field, f"must be >= {low}; got {value}")
            return False
        return True

    def number(self, field: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(field, f"must be a number; got {value!r}")
            return False
        if not math.isfinite(value):
            self.add(field, f"must be finite; got {value!r}")
            return False
        lo_bad = low is not None and (value <= low if low_open else value < low)
        hi_bad = high is not None and (value >= high if high_open else value > high)
        if lo_bad or hi_bad:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
            self.add(field, f"must be {' and '.join(x for x in (lo, hi) if x)}; got {value!r}")
            return False
        return True

    def choice(self, field: str, value: Any, valid: Collection[str]) -> bool:
        if not isinstance(value, str) or value not in valid:
            self.add(field, f"unknown value {value!r}; valid: {', '.join(map(str, valid))}")
            return False
        return True

    def names(self, field: str, value: Any, valid: Collection[str] | None = None) -> bool:
        """A list of strings (not one string), each in ``valid`` when given, no duplicates."""
        if isinstance(value, str) or not isinstance(value, (tuple, list)):
            self.add(field, f"must be a list of names, not {type(value).__name__} {value!r}")
            return False
        ok = True
        for v in value:
            if not isinstance(v, str) or (valid is not None and v not in valid):
                extra = f"; valid: {', '.join(map(str, valid))}" if valid is not None else ""
                self.add(field, f"unknown name {v!r}{extra}")
                ok = False
        if len(set(value)) != len(value):
            self.add(field, f"has duplicates: {list(value)}")
            ok = False
        return ok
