"""Input checks shared across conn2rnn: every failure names the argument and the fix."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np


def to_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, on the CPU); anything else unchanged.

    Works without importing torch, so numpy-only callers stay light.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


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


# ----------------------------------------------------------------- scalars
_MAX_SEED = 2**63 - 1


def _is_real(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer,
                                                                            np.floating))


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[low, high]``, else raise.

    Parameters
    ----------
    value : int or numpy integer
        Booleans and floats (even ``3.0``) are rejected.
    name : str
        Argument name used in error messages (e.g. ``"n_trials"`` or a TOML path).
    low, high : int, optional
        Inclusive bounds.

    Raises
    ------
    TypeError
        When ``value`` is not an integer.
    ValueError
        When it is outside the bounds.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {_range_text(low, high)}; got {value}")
    return value


def check_float(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """Return ``value`` as a ``float`` if it is a real number in the given range, else raise.

    Parameters
    ----------
    value : int, float or numpy number
        Booleans and strings are rejected.
    name : str
        Argument name used in error messages.
    low, high : float, optional
        Bounds; inclusive unless ``low_open`` / ``high_open``.
    finite : bool
        Reject NaN and infinities.

    Raises
    ------
    TypeError
        When ``value`` is not a real number.
    ValueError
        When it is not finite (with ``finite``) or outside the bounds.
    """
    if not _is_real(value):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__})")
    value = float(value)
    if np.isnan(value) or (finite and not np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number; got {value}")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        raise ValueError(f"{name} must be a number {_range_text(low, high, low_open, high_open)}; "
                         f"got {value:g}")
    return value


def _range_text(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "(any)"


def check_seed(value: Any, name: str = "seed") -> int:
    """Return a seed as an ``int`` if it is an integer in ``[0, 2**63 - 1]``, else raise.

    numpy's and torch's generators take non-negative seeds only; this check
    names the argument instead of failing inside them.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative integer seed; got {value!r} "
                        f"({type(value).__name__})")
    if not 0 <= int(value) <= _MAX_SEED:
        raise ValueError(f"{name} must be a non-negative integer seed (0 to 2**63 - 1); got {value}")
    return int(value)


def check_seeds(values: Any, name: str = "seeds", n: int | None = None) -> list[int]:
    """Check a sequence of seeds (each as :func:`check_seed`), optionally of length ``n``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of non-negative integer seeds; got "
                        f"{type(values).__name__}")
    seeds = [check_seed(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if n is not None and len(seeds) != n:
        raise ValueError(f"{name} must have {n} entries (one per network); got {len(seeds)}")
    return seeds


def check_criterion(value: Any, name: str = "criterion") -> float:
    """The learning criterion rule: a held-out accuracy in ``(0, 1]``.

    Used by :func:`conn2rnn.fitting.train` and by the experiment spec's
    ``[training] criterion``, so both accept exactly the same values.
    """
    return check_float(value, name, low=0.0, high=1.0, low_open=True)


def check_names(value: Any, name: str) -> tuple[str, ...]:
    """A tuple of names from one name or a sequence of names.

    A single string is one name (``"int_hbn"`` -> ``("int_hbn",)``), never
    iterated character by character.
    """
    if isinstance(value, str):
        return (value,)
    if value is None:
        return ()
    if not hasattr(value, "__iter__") or isinstance(value, (bytes, dict)):
        raise TypeError(f"{name} must be a name or a list of names; got {type(value).__name__}")
    names = tuple(value)
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{name} must contain names (str); got {bad[0]!r}")
    return names


def as_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from a seed (checked by :func:`check_seed`), None, or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(None if seed is None else check_seed(seed, name))
