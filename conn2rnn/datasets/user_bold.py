"""Load a user's BOLD time series (array, parcellated table or NIfTI + atlas) for timescale analysis.

:func:`load_bold` returns a :class:`BoldData`: a (T, N) time-by-region array, the
repetition time in seconds and the region names. Sources:

- a (T, N) array (``tr`` required);
- a parcellated table, CSV or TSV (rows = time points, columns = regions, header =
  region names; ``tr`` required) or a :class:`pandas.DataFrame`;
- a 4-D NIfTI image plus a 3-D label ``atlas`` image: region means through
  nilearn's :class:`~nilearn.maskers.NiftiLabelsMasker` (the TR is read from the
  header when its time unit is set).

No signal cleaning is applied unless asked for: ``detrend`` removes each region's
least-squares line, ``standardize`` z-scores each region (ddof = 1). Apply
confound regression or filtering before loading if the analysis needs it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._validation import readonly

__all__ = ["BoldData", "load_bold"]

_TABLE_SUFFIXES = {".csv": ",", ".csv.gz": ",", ".tsv": "\t", ".tsv.gz": "\t"}
_NIFTI_SUFFIXES = (".nii", ".nii.gz")
_TIME_UNIT_TO_S = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}
_MAX_TR_S = 30.0


@dataclass(frozen=True, eq=False)
class BoldData:
    """Region BOLD time series, time in rows.

    Attributes
    ----------
    timeseries : (T, N) ndarray
        Read-only float64 signals, one column per region.
    tr_s : float
        Repetition time in seconds.
    region_names : tuple of str, (N,)
        Column names.
    source : str
        Where the data came from (``'array'``, a file path, ``'DataFrame'``).
    """

    timeseries: np.ndarray
    tr_s: float
    region_names: tuple[str, ...]
    source: str = "array"

    @property
    def n_timepoints(self) -> int:
        """Number of volumes T."""
        return int(self.timeseries.shape[0])

    @property
    def n_regions(self) -> int:
        """Number of regions N."""
        return int(self.timeseries.shape[1])

    @property
    def duration_s(self) -> float:
        """Scan length T * TR in seconds."""
        return self.n_timepoints * self.tr_s

    def __repr__(self) -> str:
        return (f"BoldData(T={self.n_timepoints}, N={self.n_regions}, tr_s={self.tr_s:g}, "
                f"source={self.source!r})")


def load_bold(
    source: Any,
    *,
    atlas: Any = None,
    tr: float | None = None,
    region_names: Sequence[str] | Mapping[int, str] | None = None,
    detrend: bool = False,
    standardize: bool = False,
    allow_wide: bool = False,
    sep: str | None = None,
) -> BoldData:
    """Load BOLD time series as a (T, N) time-by-region array with its TR.

    Parameters
    ----------
    source : (T, N) array_like, pandas.DataFrame, path or nibabel image
        A time-by-region array; a DataFrame or a ``.csv``/``.tsv`` file (optionally
        ``.gz``) whose header row names the regions and whose rows are time points;
        or a 4-D NIfTI image (``.nii``/``.nii.gz`` path or nibabel image).
    atlas : path or nibabel image, optional
        3-D integer label image (0 = background), required for a NIfTI source and
        used only there. It is resampled to the BOLD grid (nearest neighbour) when
        the grids differ.
    tr : float, optional
        Repetition time in seconds. Required for arrays and tables; for NIfTI it
        defaults to the header TR when the header's time unit is set, and
        overrides it (with a warning) when both are given and differ.
    region_names : sequence of str or mapping of int to str, optional
        For arrays: one name per column (default ``region_0 ... region_{N-1}``).
        For NIfTI: names of the atlas labels in ascending label order, or a
        mapping label value -> name (default ``label_<value>``). Not used for
        tables, whose header gives the names.
    detrend : bool, default False
        Remove each region's least-squares line (and so its mean).
    standardize : bool, default False
        Z-score each region (after detrending), sample SD (ddof = 1); constant
        regions stay constant.
    allow_wide : bool, default False
        Accept arrays and tables with fewer time points than regions (T < N),
        which otherwise raise because they usually mean a transposed input.
    sep : str, optional
        Column separator of a table file (default from the suffix: ``,`` or tab).

    Returns
    -------
    BoldData

    Raises
    ------
    ValueError
        Missing or implausible ``tr``, a 1-D or transposed-looking array, regions
        containing NaN or infinite values, a table without a header, a NIfTI source
        without ``atlas``.

    Warns
    -----
    UserWarning
        When some regions are constant over time (named in the message).
    """
    for flag, name in ((detrend, "detrend"), (standardize, "standardize"), (allow_wide, "allow_wide")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False; got {flag!r}")
    if atlas is not None and not _is_nifti(source):
        raise ValueError("atlas is only used with a 4-D NIfTI source; for arrays and tables "
                         "the columns already are regions: drop atlas")
    if _is_nifti(source):
        if atlas is None:
            raise ValueError("atlas is required for a NIfTI source: pass a 3-D label image "
                             "(path or nibabel image) whose non-zero values define the regions")
        values, names, tr_s, label = _from_nifti(source, atlas, tr, region_names)
        check_wide = False
    elif isinstance(source, (str, Path)) or isinstance(source, pd.DataFrame):
        if region_names is not None:
            raise ValueError("region_names is not used for tables: the header row names the "
                             "regions; rename the columns instead")
        frame, label = _read_table(source, sep)
        values, names = _table_values(frame)
        tr_s = _check_tr(tr, "a table")
        check_wide = True
    else:
        values = _array_values(source)
        names = _array_names(region_names, values.shape[1])
        tr_s = _check_tr(tr, "an array")
        label, check_wide = "array", True
    if check_wide and values.shape[0] < values.shape[1] and not allow_wide:
        raise ValueError(
            f"the BOLD data look transposed: {values.shape[0]} time points < {values.shape[1]} "
            f"regions; time must be in rows, shape (T, N). Pass the transpose (x.T), or "
            f"allow_wide=True if the scan really has fewer volumes than regions")
    _check_signals(values, names)
    values = _clean(values, detrend=detrend, standardize=standardize)
    return BoldData(timeseries=readonly(values), tr_s=tr_s, region_names=tuple(names), source=label)


# ------------------------------------------------------------------ checks
def _check_tr(tr: Any, what: str) -> float:
    if tr is None:
        raise ValueError(f"tr is required for {what}: pass the repetition time in seconds "
                         f"(e.g. tr=0.72)")
    if isinstance(tr, bool) or not isinstance(tr, (int, float, np.integer, np.floating)):
        raise TypeError(f"tr must be a number of seconds; got {type(tr).__name__}")
    tr = float(tr)
    if not np.isfinite(tr) or tr <= 0:
        raise ValueError(f"tr must be a positive number of seconds; got {tr!r}")
    if tr > _MAX_TR_S:
        raise ValueError(f"tr must be in seconds; got {tr:g}, which is implausibly long "
                         f"(milliseconds? pass tr={tr / 1000:g})")
    return tr


def _check_signals(values: np.ndarray, names: Sequence[str]) -> None:
    if values.shape[0] < 2:
        raise ValueError(f"the BOLD data need at least 2 time points; got {values.shape[0]}")
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        listed = [names[i] for i in np.flatnonzero(bad)]
        raise ValueError(f"{bad.sum()} region(s) contain NaN or infinite values: {listed[:10]}; "
                         "drop those regions or impute the missing volumes before loading")
    constant = np.flatnonzero(np.ptp(values, axis=0) == 0)
    if constant.size:
        listed = [names[i] for i in constant]
        warnings.warn(f"{constant.size} region(s) are constant over time (no signal, e.g. outside "
                      f"the brain mask): {listed[:10]}; their timescales are undefined",
                      UserWarning, stacklevel=3)


def _clean(values: np.ndarray, *, detrend: bool, standardize: bool) -> np.ndarray:
    if detrend:
        from scipy.signal import detrend as _linear_detrend

        values = _linear_detrend(values, axis=0, type="linear")
    if standardize:
        centred = values - values.mean(axis=0)
        sd = centred.std(axis=0, ddof=1)
        values = centred / np.where(sd > 0, sd, 1.0)
    return values


# ------------------------------------------------------------------ arrays
def _array_values(source: Any) -> np.ndarray:
    try:
        values = np.array(source, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"source must be a numeric (T, N) array, a table path or DataFrame, or a "
                        f"NIfTI image; got {type(source).__name__}") from exc
    if values.ndim == 1:
        raise ValueError(f"source must be 2-D (T, N), time in rows; got a 1-D array of length "
                         f"{values.shape[0]}. For a single region pass x[:, None]")
    if values.ndim != 2:
        raise ValueError(f"source must be 2-D (T, N), time in rows; got shape {values.shape}")
    return values


def _array_names(region_names: Any, n: int) -> list[str]:
    if region_names is None:
        return [f"region_{i}" for i in range(n)]
    if isinstance(region_names, (str, Mapping)):
        raise TypeError("region_names for an array must be a sequence of N names")
    names = [str(x) for x in region_names]
    if len(names) != n:
        raise ValueError(f"region_names must have one name per column ({n}); got {len(names)}")
    _check_unique(names)
    return names


def _check_unique(names: Sequence[str]) -> None:
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise ValueError(f"region names must be unique; duplicated: {dup[:5]}")


# ------------------------------------------------------------------ tables
def _read_table(source: Any, sep: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, "DataFrame"
    path = Path(source)
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    if sep is None:
        if suffix.lower() not in _TABLE_SUFFIXES:
            raise ValueError(f"cannot tell the format of {path.name!r}: use a .csv or .tsv table "
                             f"(optionally .gz), a .nii/.nii.gz image, or pass sep= for other tables")
        sep = _TABLE_SUFFIXES[suffix.lower()]
    if not path.is_file():
        raise FileNotFoundError(f"source file not found: {path}")
    return pd.read_csv(path, sep=sep), str(path)


def _table_values(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in frame.columns]
    if not names:
        raise ValueError("the table has no columns; expected one column per region")
    if all(_is_number(n) for n in names):
        raise ValueError("the table's first row is numeric, so it has no header of region names: "
                         "add a header row, or load it with numpy and pass the array with "
                         "region_names=")
    _check_unique(names)
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise TypeError(f"column(s) {[str(c) for c in non_numeric][:10]} are not numeric; keep only "
                        "one numeric column per region (drop time or label columns)")
    return frame.to_numpy(dtype=np.float64, copy=True), names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ NIfTI
def _is_nifti(source: Any) -> bool:
    if isinstance(source, (str, Path)):
        return str(source).lower().endswith(_NIFTI_SUFFIXES)
    return type(source).__module__.startswith("nibabel") and hasattr(source, "affine")


def _header_tr(img: Any) -> tuple[float | None, float]:
    """The header TR in seconds (None when the time unit is unset) and the raw pixdim[4]."""
    zooms = img.header.get_zooms()
    raw = float(zooms[3]) if len(zooms) > 3 else 0.0
    unit = img.header.get_xyzt_units()[1]
    if raw > 0 and unit in _TIME_UNIT_TO_S:
        return raw * _TIME_UNIT_TO_S[unit], raw
    return None, raw


def _from_nifti(source: Any, atlas: Any, tr: float | None,
                region_names: Any) -> tuple[np.ndarray, list[str], float, str]:
    from nilearn.image import load_img, resample_to_img  # heavy; only to read and parcellate images
    from nilearn.maskers import NiftiLabelsMasker  # heavy; only to read and parcellate images

    img = load_img(source)
    if img.ndim != 4:
        raise ValueError(f"a NIfTI source must be 4-D (x, y, z, time); got {img.ndim}-D {img.shape}")
    header_tr, raw = _header_tr(img)
    if tr is None:
        if header_tr is None:
            hint = f" (pixdim[4] = {raw:g}; pass tr={raw:g} if that is the TR in seconds)" if raw > 0 else ""
            raise ValueError(f"tr is required: the NIfTI header has no TR with a time unit{hint}")
        tr_s = _check_tr(header_tr, "this image")
    else:
        tr_s = _check_tr(tr, "this image")
        if header_tr is not None and not np.isclose(tr_s, header_tr, rtol=1e-3):
            warnings.warn(f"tr={tr_s:g} s overrides the NIfTI header TR of {header_tr:g} s",
                          UserWarning, stacklevel=3)

    labels_img = load_img(atlas)
    if labels_img.ndim != 3:
        raise ValueError(f"atlas must be a 3-D label image; got {labels_img.ndim}-D {labels_img.shape}")
    if labels_img.shape != img.shape[:3] or not np.allclose(labels_img.affine, img.affine):
        labels_img = resample_to_img(labels_img, img, interpolation="nearest")
    label_data = np.asarray(labels_img.dataobj)
    if not np.all(np.isfinite(label_data)) or np.any(label_data != np.round(label_data)):
        raise ValueError("atlas must hold integer labels (0 = background); got non-integer values")
    ids = [int(v) for v in np.unique(label_data) if v != 0]
    if not ids:
        raise ValueError("atlas has no non-zero label inside the BOLD image's field of view")
    names = _label_names(region_names, ids)

    masker = NiftiLabelsMasker(labels_img=labels_img, background_label=0, standardize=None,
                               detrend=False, t_r=tr_s, strategy="mean")
    values = np.asarray(masker.fit_transform(img), dtype=np.float64)
    if values.shape[1] != len(ids):
        raise ValueError(f"the masker returned {values.shape[1]} regions for {len(ids)} atlas labels; "
                         "check that the atlas and the BOLD image overlap")
    label = str(source) if isinstance(source, (str, Path)) else "NIfTI image"
    return values, names, tr_s, label


def _label_names(region_names: Any, ids: list[int]) -> list[str]:
    if region_names is None:
        return [f"label_{v}" for v in ids]
    if isinstance(region_names, Mapping):
        missing = [v for v in ids if v not in region_names]
        if missing:
            raise ValueError(f"region_names has no name for atlas label(s) {missing[:10]}")
        names = [str(region_names[v]) for v in ids]
    else:
        if isinstance(region_names, str):
            raise TypeError("region_names must be a sequence of names or a mapping label -> name")
        names = [str(x) for x in region_names]
        if len(names) != len(ids):
            raise ValueError(f"region_names must name the {len(ids)} atlas labels {ids[:10]} in "
                             f"ascending order; got {len(names)} names")
    _check_unique(names)
    return names
