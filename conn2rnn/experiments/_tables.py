"""The store's tables and names: validated rows, CSV reading, group ids and folder names.

Split from :mod:`conn2rnn.experiments.store`, which re-exports everything here.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["ID_COLUMNS", "check_folder_name", "check_group_id", "read_table"]

_GROUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_RESERVED = ("rows.csv", "curves.csv")
_ROW_KEYS = ("group_id", "run_id", "metric", "value")
_RESULT_KEYS = ("rows", "curves", "artifacts")
_MANIFEST_FORMAT = "conn2rnn-manifest"
#: Columns read back as strings whatever they hold (an all-digit id is still an id).
ID_COLUMNS = ("group_id", "run_id", "metric")


def check_folder_name(name: Any, argname: str = "name") -> str:
    """Validate a name used as an output folder: one plain path component.

    Parameters
    ----------
    name : str
        E.g. an experiment spec's ``name``, from which the default output folder
        is derived.
    argname : str
        How the value is called in the error message.

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    TypeError
        When ``name`` is not a string.
    ValueError
        When ``name`` is empty, ``.`` or ``..``, or holds a path separator
        (``/``, ``\\``), a NUL byte, or leading/trailing whitespace: the
        folder must be created inside the working folder, never elsewhere.
    """
    if not isinstance(name, str):
        raise TypeError(f"{argname} must be a str (it names the output folder); "
                        f"got {type(name).__name__}")
    seps = {"/", "\\", os.sep, *([os.altsep] if os.altsep else [])}
    bad = (not name or name in (".", "..") or any(c in name for c in seps) or "\0" in name
           or name != name.strip())
    if bad:
        raise ValueError(f"{argname} must be a plain folder name (no '/', '\\', '..', leading or "
                         f"trailing spaces), since it names the output folder; got {name!r}. "
                         "Choose e.g. 'my_sweep', or pass --out to choose the folder")
    return name


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_group_id(group_id: Any) -> str:
    """Validate a group id (it names a folder): letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
        raise ValueError(
            "group_id must be 1-128 letters, digits, '.', '_' or '-' starting with a letter "
            f"or digit (it names a folder); got {group_id!r}"
        )
    return group_id


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{where} must be a scalar (str, number, bool or None); got "
                    f"{type(value).__name__}. Store arrays as artifacts in the group's workdir")


def _table(records: Any, name: str, required: tuple[str, ...], group_id: str) -> pd.DataFrame:
    """Validate a list of flat dicts and turn it into a DataFrame with ``group_id`` first."""
    if not isinstance(records, (list, tuple)):
        raise TypeError(f"result[{name!r}] must be a list of dicts; got {type(records).__name__}")
    clean = []
    for i, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise TypeError(f"result[{name!r}][{i}] must be a dict; got {type(row).__name__}")
        missing = [k for k in required if k not in row]
        if missing:
            raise ValueError(f"result[{name!r}][{i}] lacks key(s) {missing}; every row needs "
                             f"{list(required)}; got keys {sorted(row)}")
        if "group_id" in row and row["group_id"] != group_id:
            raise ValueError(f"result[{name!r}][{i}] has group_id {row['group_id']!r} but is "
                             f"recorded for group {group_id!r}; drop the key or fix it")
        out = {"group_id": group_id}
        for key, value in row.items():
            if not isinstance(key, str):
                raise TypeError(f"result[{name!r}][{i}] keys must be str; got {key!r}")
            out[key] = _scalar(value, f"result[{name!r}][{i}][{key!r}]")
        for key in ("run_id", "metric"):
            if key in required and not isinstance(out[key], str):
                raise TypeError(f"result[{name!r}][{i}][{key!r}] must be a str; got {out[key]!r}")
        if "value" in required:
            value = out["value"]
            if value is not None and (isinstance(value, (str, bool))
                                      or not isinstance(value, (int, float))):
                raise TypeError(f"result[{name!r}][{i}]['value'] must be a number or None "
                                f"(cast booleans to float); got {value!r}")
        clean.append(out)
    head = ["group_id", *required]
    frame = pd.DataFrame.from_records(clean) if clean else pd.DataFrame(columns=head)
    return frame[head + [c for c in frame.columns if c not in head]]


# pandas >= 3 parses floats exactly by default and deprecates the option.
_EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def read_table(source: str | Path | bytes, **options: Any) -> pd.DataFrame:
    """Read a CSV table the store wrote (``results.csv``, ``rows.csv``, ``curves.csv``).

    Only empty fields are missing values, floats round-trip exactly and the id
    columns (:data:`ID_COLUMNS`) are strings, so an all-digit group id is never
    turned into a number. ``options`` go to :func:`pandas.read_csv`.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    options = {"keep_default_na": False, "na_values": [""], **_EXACT_FLOATS, **options}
    options["dtype"] = {**{c: str for c in ID_COLUMNS}, **(options.get("dtype") or {})}
    return pd.read_csv(source, **options)


_read_csv = read_table
