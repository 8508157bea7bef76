"""Input checks shared across conn2rnn: every failure names the argument and the fix."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np


def as_float_array(value: Any, name: str, *, ndim: int | None = None,
                   shape: tuple[int | None, ...] | None = None,
                   finite: bool = True, copy: bool = True) -> np.ndarray:
    """Convert ``value`` to a float64 array, checking dimensions, shape and finiteness.

    Parameters
    ----------
    value : array_like
        The user's input.
    name : str
        Argument name used in error messages.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple of int or None, optional
        Required shape; ``None`` entries match any length.
    finite : bool
        Reject NaN and infinite entries.
    copy : bool
        Always return a new array (never a view of the caller's data).

    Returns
    -------
    ndarray
        A float64 array.
    """
    try:
        arr = np.array(value, dtype=np.float64, copy=copy)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}; got {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); clean or impute them first"
        )
    return arr


def square_matrix(value: Any, name: str, n: int | None = None, *,
                  nonnegative: bool = False) -> np.ndarray:
    """Check a square (N, N) finite matrix, optionally of a given size and sign."""
    arr = as_float_array(value, name, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square (N, N); got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must be ({n}, {n}) to match the graph's {n} nodes; got {arr.shape}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative; its minimum is {arr.min():.6g}")
    return arr


def check_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(repr, choices))}")
    return value


def readonly(arr: np.ndarray) -> np.ndarray:
    """Mark an array read-only and return it."""
    arr.setflags(write=False)
    return arr
