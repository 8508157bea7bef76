"""Healthy Brain Network intrinsic-timescale (INT) tables from their source archive.

The source repository (PennLINC/shafiei_timescale, pinned commit) holds one
Schaefer-400 (17Networks order) vector per fMRI run: the sum of the BOLD
autocorrelation function up to its first zero crossing, times TR (seconds).
The Schaefer-400 table is built as follows:

1. keep the resting-state runs, ``data/timescale/HBN_acf/TRorig/
   *task-rest*_timescale_acfsum_TRorig.npy`` (1551 runs of 876 subjects at the
   pinned commit), each a finite 400-vector;
2. average the runs of each subject (subject = file-name prefix ``sub-<id>``);
3. take the median, mean and standard deviation (``ddof=1``) over subjects;
4. re-order from 17Networks to 7Networks order with the repository's
   ``Schaefer_400-17_mappedto_400-7.csv``: row ``i`` of the 7Networks table takes
   17Networks parcel ``mapped_indices[i]`` (0-based).

Coarser tables are carried over by vertex overlap (:func:`carry_int_table`).
Code-host archives are not byte-stable, so the archive has no pinned checksum;
the extracted content is verified instead (run and subject counts, vector
shape, finite values, and the order map's pinned sha256).

A table is cached when its sha256 equals the reference build's
(:mod:`conn2rnn.datasets.registry`). A local build whose bytes differ from the
reference build is kept too, with its own checksum recorded next to it in
``<table>.sha256``, so it is verified, not rebuilt, on later calls.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import registry
from ._download import DataIntegrityError, sha256sum, write_bytes_atomic

__all__ = [
    "EXPECTED_RUNS",
    "EXPECTED_SUBJECTS",
    "VALUE_COLUMNS",
    "read_archive_runs",
    "int_table_from_archive",
    "carry_int_table",
    "table_to_csv_bytes",
    "save_int_table",
    "is_cached_table",
]

EXPECTED_RUNS = 1551
"""Resting-state runs in the archive at the pinned commit."""
EXPECTED_SUBJECTS = 876
"""Subjects with at least one resting-state run at the pinned commit."""
VALUE_COLUMNS = ("INT_acfsum_s_median", "INT_acfsum_s_mean")
"""INT columns (seconds) present at every resolution."""

_N_SOURCE = 400
_RUN_RE = re.compile(
    r"^[^/]+/data/timescale/HBN_acf/TRorig/(sub-[^_/]+)_[^/]*task-rest[^/]*"
    r"_timescale_acfsum_TRorig\.npy$"
)
_MAPPER_RE = re.compile(
    r"^[^/]+/data/SchaeferParcellation/schaefer_ordering_mapper/"
    r"Schaefer_400-17_mappedto_400-7\.csv$"
)
_FLOAT_FORMAT = "%.5g"
_SIDECAR = ".sha256"


def read_archive_runs(zf: zipfile.ZipFile) -> dict[str, list[np.ndarray]]:
    """Resting-state run vectors of every subject in the source archive.

    Parameters
    ----------
    zf : zipfile.ZipFile
        The repository archive (one top-level folder).

    Returns
    -------
    dict of str to list of (400,) float64 ndarray
        Subject id (``sub-<id>``) -> its runs, in archive-name order.

    Raises
    ------
    DataIntegrityError
        A run file is not a finite 400-vector.
    """
    runs: dict[str, list[np.ndarray]] = {}
    for name in sorted(zf.namelist()):
        match = _RUN_RE.match(name)
        if match is None:
            continue
        vec = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
        vec = np.asarray(vec, dtype=np.float64).squeeze()
        if vec.shape != (_N_SOURCE,):
            raise DataIntegrityError(
                f"{name} must hold a {_N_SOURCE}-vector (Schaefer-400); got shape "
                f"{vec.shape}. The archive is not the expected source."
            )
        if not np.all(np.isfinite(vec)):
            raise DataIntegrityError(f"{name} has non-finite values; the archive is corrupt.")
        runs.setdefault(match.group(1), []).append(vec)
    return runs


def _read_mapper(zf: zipfile.ZipFile, names: Sequence[str]) -> pd.DataFrame:
    members = [n for n in zf.namelist() if _MAPPER_RE.match(n)]
    if len(members) != 1:
        raise DataIntegrityError(
            "The archive must hold exactly one data/SchaeferParcellation/"
            f"schaefer_ordering_mapper/Schaefer_400-17_mappedto_400-7.csv; found "
            f"{len(members)}."
        )
    raw = zf.read(members[0])
    pinned = registry.schaefer_mapper_file().sha256
    found = hashlib.sha256(raw).hexdigest()
    if found != pinned:
        raise DataIntegrityError(
            f"{members[0]} has sha256 {found}; expected {pinned} (pinned commit)."
        )
    mapper = pd.read_csv(io.BytesIO(raw))
    idx = mapper["mapped_indices"].to_numpy()
    if not np.array_equal(np.sort(idx), np.arange(_N_SOURCE)):
        raise DataIntegrityError("mapped_indices must be a permutation of 0..399 (0-based).")
    if list(mapper["output_roi"]) != list(names):
        raise DataIntegrityError(
            "output_roi of the order map must list the Schaefer-400 7Networks names "
            "in parcel order."
        )
    hemi_in = mapper["input_roi"].str.split("_").str[1].to_numpy()
    hemi_out = mapper["output_roi"].str.split("_").str[1].to_numpy()
    if not (np.all(hemi_in == hemi_out) and np.all((idx < _N_SOURCE // 2) == (hemi_out == "LH"))):
        raise DataIntegrityError(
            "The order map must pair parcels of the same hemisphere, left hemisphere "
            "first (0-based indices 0..199)."
        )
    return mapper


def int_table_from_archive(
    archive: str | os.PathLike,
    names: Sequence[str],
    *,
    n_runs: int | None = None,
    n_subjects: int | None = None,
) -> pd.DataFrame:
    """Build the Schaefer-400 (7Networks) INT table from the source archive.

    Parameters
    ----------
    archive : str or path-like
        Zip archive of PennLINC/shafiei_timescale at the pinned commit.
    names : sequence of str, length 400
        Schaefer-400 7Networks parcel names in parcel order (CBIG names).
    n_runs, n_subjects : int, optional
        Expected numbers of resting-state runs and subjects; default
        :data:`EXPECTED_RUNS` and :data:`EXPECTED_SUBJECTS`.

    Returns
    -------
    pandas.DataFrame, 400 rows
        Columns label (1..400), name, name_17net_source, INT_acfsum_s_median,
        INT_acfsum_s_mean, INT_acfsum_s_sd (seconds), n_subjects.

    Raises
    ------
    DataIntegrityError
        Counts, shapes, values or the order map differ from what is expected.
    """
    n_runs = EXPECTED_RUNS if n_runs is None else n_runs
    n_subjects = EXPECTED_SUBJECTS if n_subjects is None else n_subjects
    if len(names) != _N_SOURCE:
        raise ValueError(f"names must list {_N_SOURCE} parcel names; got {len(names)}")
    with zipfile.ZipFile(archive) as zf:
        runs = read_archive_runs(zf)
        mapper = _read_mapper(zf, names)
    found_runs = sum(len(r) for r in runs.values())
    if found_runs != n_runs or len(runs) != n_subjects:
        raise DataIntegrityError(
            f"The archive holds {found_runs} resting-state runs of {len(runs)} subjects; "
            f"expected {n_runs} runs of {n_subjects} subjects. It is not the source at "
            f"the pinned commit {registry.SHAFIEI_ARCHIVE.commit}."
        )
    subject_means = np.stack([np.mean(np.stack(runs[s]), axis=0) for s in sorted(runs)])
    order = mapper["mapped_indices"].to_numpy()
    sd = (
        np.std(subject_means, axis=0, ddof=1)
        if len(runs) > 1
        else np.full(_N_SOURCE, np.nan)
    )
    return pd.DataFrame(
        {
            "label": np.arange(1, _N_SOURCE + 1),
            "name": mapper["output_roi"].to_numpy(),
            "name_17net_source": mapper["input_roi"].to_numpy(),
            "INT_acfsum_s_median": np.median(subject_means, axis=0)[order],
            "INT_acfsum_s_mean": np.mean(subject_means, axis=0)[order],
            "INT_acfsum_s_sd": sd[order],
            "n_subjects": len(runs),
        }
    )


def carry_int_table(
    table400: pd.DataFrame, labels400: np.ndarray, labels: np.ndarray
) -> pd.DataFrame:
    """Carry Schaefer-400 INT values to a coarser parcellation by vertex overlap.

    Each 400-parcel value is painted on the vertices it labels; a coarse parcel
    gets the mean over its vertices that carry a 400-parcel (so each 400-parcel
    is weighted by its vertex overlap). Vertices labelled 0 in either
    parcellation (medial wall) are ignored.

    Parameters
    ----------
    table400 : pandas.DataFrame, 400 rows
        Fine table in parcel order, with the columns of :data:`VALUE_COLUMNS`.
    labels400 : (V,) int ndarray
        Fine vertex labels, 1..400 (0 = medial wall).
    labels : (V,) int ndarray
        Coarse vertex labels, 1..N (0 = medial wall), on the same vertices.

    Returns
    -------
    pandas.DataFrame, N rows
        Columns label (1..N), INT_acfsum_s_median, INT_acfsum_s_mean,
        n_children_400 (distinct 400-parcels overlapping each parcel).
    """
    labels400 = np.asarray(labels400)
    labels = np.asarray(labels)
    n_fine = len(table400)
    if labels400.shape != labels.shape or labels.ndim != 1:
        raise ValueError(
            "labels400 and labels must be 1-D vertex labels of the same length; got "
            f"shapes {labels400.shape} and {labels.shape}"
        )
    if labels400.max() != n_fine:
        raise ValueError(
            f"labels400 must label parcels 1..{n_fine} (the rows of table400); got "
            f"a maximum label of {labels400.max()}"
        )
    n_coarse = int(labels.max())
    keep = (labels400 > 0) & (labels > 0)
    coarse = labels[keep]
    fine = labels400[keep] - 1
    order = np.argsort(coarse, kind="stable")
    starts = np.searchsorted(coarse[order], np.arange(1, n_coarse + 2))
    groups = [order[a:b] for a, b in zip(starts[:-1], starts[1:])]
    empty = [k + 1 for k, g in enumerate(groups) if g.size == 0]
    if empty:
        raise ValueError(f"coarse parcels {empty} have no vertex inside a 400-parcel")
    out = {"label": np.arange(1, n_coarse + 1)}
    for col in VALUE_COLUMNS:
        painted = table400[col].to_numpy(dtype=np.float64)[fine]
        out[col] = np.array([np.mean(painted[g]) for g in groups])
    out["n_children_400"] = np.array([np.unique(fine[g]).size for g in groups])
    return pd.DataFrame(out)


def table_to_csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV bytes of an INT table, floats with 5 significant digits."""
    return table.to_csv(index=False, float_format=_FLOAT_FORMAT, lineterminator="\n").encode()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + _SIDECAR)


def is_cached_table(path: str | os.PathLike, sha256: str) -> bool:
    """Whether ``path`` holds a verified INT table.

    Parameters
    ----------
    path : str or path-like
        Table path in the data folder.
    sha256 : str
        Checksum of the reference build.

    Returns
    -------
    bool
        True when the file's sha256 equals ``sha256`` or the checksum recorded
        for a local build in ``<path>.sha256``.
    """
    path = Path(path)
    if not path.is_file():
        return False
    found = sha256sum(path)
    if found == sha256:
        return True
    side = _sidecar(path)
    return side.is_file() and side.read_text().split()[:1] == [found]


def save_int_table(table: pd.DataFrame, path: str | os.PathLike, sha256: str) -> Path:
    """Write an INT table atomically and record its checksum when it is new.

    Parameters
    ----------
    table : pandas.DataFrame
        Table to write (:func:`table_to_csv_bytes`).
    path : str or path-like
        Destination in the data folder.
    sha256 : str
        Checksum of the reference build. When the written bytes differ from it,
        a warning says so and their checksum goes to ``<path>.sha256``.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    data = table_to_csv_bytes(table)
    write_bytes_atomic(path, data)
    found = hashlib.sha256(data).hexdigest()
    side = _sidecar(path)
    if found == sha256:
        side.unlink(missing_ok=True)
    else:
        write_bytes_atomic(side, f"{found}  {path.name}\n".encode())
        warnings.warn(
            f"{path.name} built locally differs from the reference build (sha256 "
            f"{found}, reference {sha256}); kept, with its checksum in {side.name}.",
            UserWarning,
            stacklevel=2,
        )
    return path
