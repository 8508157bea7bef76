"""Empirical timescale maps carried onto the Schaefer parcels: HCP fMRI (Ito 2020) and HCP MEG.

Two maps of the human cortex's intrinsic timescales, from adults of the Human
Connectome Project, each on a parcellation of its own:

- **HCP resting-state fMRI** (Ito, Hearne & Cole 2020, NeuroImage 221:117141): for
  each of 352 subjects (two files of 176: discovery and replication), all four
  resting-state runs concatenated, the decay constant ``tau`` of an exponential
  fitted to each Glasser parcel's BOLD autocorrelation over 100 lags, in TRs
  (TR = 0.72 s). :func:`ito_parcel_taus` applies the paper's own steps (estimates
  above 50 TR set to NaN as bad fits, then the mean over subjects) and converts to
  seconds.
- **HCP MEG** (Shafiei, Baillet & Misic 2022, PLoS Biol; the neuromaps annotation): a timescale per Schaefer-400 parcel in ms.

:func:`carry_parcel_values` moves a parcel map onto another parcellation of the
same fsLR-32k vertices: each source value is painted on the vertices its parcel
labels and each target parcel gets the mean over its painted vertices (so a source
parcel weighs by its vertex overlap).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = [
    "GLASSER_N_PARCELS",
    "ITO_OUTLIER_TR",
    "ITO_TR_S",
    "carry_parcel_values",
    "glasser_vertex_labels",
    "ito_parcel_taus",
    "ito_transmodal_minus_unimodal",
    "read_ito_taus",
]

GLASSER_N_PARCELS = 360
ITO_TR_S = 0.72
"""HCP repetition time (s): the unit of the Ito 2020 timescales is one TR."""
ITO_OUTLIER_TR = 50.0
"""Estimates above this many TRs are bad fits; the paper sets them to NaN."""
_N_VERTICES_HEMI = 32492
# Cole-Anticevic network numbers of network_partition.txt, split as the paper does.
_ITO_SENSORIMOTOR = {"vis1": 1, "vis2": 2, "smn": 3, "aud": 8}
_ITO_ASSOCIATION = {"con": 4, "dan": 5, "lan": 6, "fpn": 7, "dmn": 9, "pmulti": 10, "none1": 11, "none2": 12}

PathLike = str | os.PathLike


def read_ito_taus(path: PathLike) -> np.ndarray:
    """One Ito 2020 timescale file: taus of the 360 Glasser parcels for each subject.

    Parameters
    ----------
    path : str or path-like
        ``Murray_taus_regions_autocorrelation_rest100[_replication].txt``:
        comma-separated, one row per Glasser parcel (row i is label i + 1, left
        hemisphere first), one column per subject.

    Returns
    -------
    (360, S) float64 ndarray
        Decay constants in TRs, as stored (outliers included).
    """
    taus = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    if taus.shape[0] != GLASSER_N_PARCELS or taus.shape[1] < 1:
        raise ValueError(f"{path} must hold {GLASSER_N_PARCELS} rows (Glasser parcels) x subjects; "
                         f"got shape {taus.shape}")
    if not np.all(np.isfinite(taus)):
        raise ValueError(f"{path} holds non-finite taus")
    return taus


def _drop_outliers(taus: np.ndarray) -> np.ndarray:
    clean = np.array(taus, dtype=np.float64)
    clean[clean > ITO_OUTLIER_TR] = np.nan
    return clean


def ito_parcel_taus(*files: np.ndarray) -> np.ndarray:
    """The Ito 2020 group map: outliers dropped, mean over every subject, in seconds.

    Parameters
    ----------
    *files : (360, S_i) ndarray
        Tau tables from :func:`read_ito_taus` (e.g. discovery and replication);
        their subjects are pooled.

    Returns
    -------
    (360,) float64 ndarray
        Mean tau per Glasser parcel over the pooled subjects, after setting taus
        above :data:`ITO_OUTLIER_TR` to NaN, times :data:`ITO_TR_S` (seconds).
    """
    if not files:
        raise ValueError("ito_parcel_taus needs at least one tau table (from read_ito_taus)")
    pooled = np.concatenate([_drop_outliers(np.asarray(f, dtype=np.float64)) for f in files], axis=1)
    if pooled.shape[0] != GLASSER_N_PARCELS:
        raise ValueError(f"tau tables must have {GLASSER_N_PARCELS} rows; got {pooled.shape[0]}")
    counts = np.sum(np.isfinite(pooled), axis=1)
    if np.any(counts == 0):
        raise ValueError(f"Glasser parcels {np.flatnonzero(counts == 0) + 1} have no valid tau")
    return np.nanmean(pooled, axis=1) * ITO_TR_S


def ito_transmodal_minus_unimodal(taus: np.ndarray, network_partition: np.ndarray) -> float:
    """The paper's transmodal-minus-unimodal tau difference (in TRs), by its own steps.

    Outliers are set to NaN; for every subject the NaN-mean tau of each
    Cole-Anticevic network is averaged over the 8 association networks and over
    the 4 sensorimotor networks (VIS1, VIS2, SMN, AUD); the result is the mean
    over subjects of association minus sensorimotor. On the discovery file the
    paper reports 0.9927 TR.

    Parameters
    ----------
    taus : (360, S) ndarray
        From :func:`read_ito_taus`.
    network_partition : (360,) ndarray
        Network number 1..12 of each Glasser parcel (``network_partition.txt``).

    Returns
    -------
    float
        Difference in TRs.
    """
    clean = _drop_outliers(taus)
    nets = np.asarray(network_partition).astype(int).ravel()
    if nets.shape != (GLASSER_N_PARCELS,):
        raise ValueError(f"network_partition must have {GLASSER_N_PARCELS} entries; got {nets.shape}")

    def group_mean(networks: dict[str, int]) -> np.ndarray:
        return np.mean([np.nanmean(clean[nets == k], axis=0) for k in networks.values()], axis=0)

    return float(np.mean(group_mean(_ITO_ASSOCIATION) - group_mean(_ITO_SENSORIMOTOR)))


def glasser_vertex_labels(dlabel_path: PathLike) -> np.ndarray:
    """Glasser labels of the fsLR-32k vertices, left hemisphere first (0 = no label).

    Parameters
    ----------
    dlabel_path : str or path-like
        The Glasser CIFTI label file on fsLR-32k (labels 1..180 left, 181..360 right).

    Returns
    -------
    (64984,) int64 ndarray
        Label per vertex: the 32492 left vertices, then the 32492 right ones
        (the order of brainspace's conte69 Schaefer labels); vertices outside the
        CIFTI brain models (the medial wall) are 0.
    """
    import nibabel as nib  # heavy; only to read image files

    img = nib.load(Path(dlabel_path))
    data = np.asarray(img.dataobj).reshape(-1)
    axis = img.header.get_axis(1)
    out = np.zeros(2 * _N_VERTICES_HEMI, dtype=np.int64)
    offsets = {"CIFTI_STRUCTURE_CORTEX_LEFT": 0, "CIFTI_STRUCTURE_CORTEX_RIGHT": _N_VERTICES_HEMI}
    seen = set()
    for name, block, model in axis.iter_structures():
        if name not in offsets:
            continue
        out[offsets[name] + np.asarray(model.vertex)] = data[block].astype(np.int64)
        seen.add(name)
    if seen != set(offsets):
        raise ValueError(f"{dlabel_path} must hold both cortical hemispheres; found {sorted(seen)}")
    if out.max() != GLASSER_N_PARCELS or out[:_N_VERTICES_HEMI].max() > GLASSER_N_PARCELS // 2:
        raise ValueError(f"{dlabel_path} must label 1..180 on the left and 181..360 on the right")
    return out


def carry_parcel_values(values: np.ndarray, source_labels: np.ndarray, target_labels: np.ndarray) -> np.ndarray:
    """Carry a parcel map onto another parcellation of the same vertices.

    Parameters
    ----------
    values : (M,) ndarray
        One value per source parcel, in label order 1..M.
    source_labels : (V,) int ndarray
        Source parcel of each vertex (1..M; 0 = unlabelled).
    target_labels : (V,) int ndarray
        Target parcel of each vertex (1..N; 0 = unlabelled), on the same vertices.

    Returns
    -------
    (N,) float64 ndarray
        Mean of the painted source values over each target parcel's vertices that
        carry a source label.

    Raises
    ------
    ValueError
        Shapes disagree, a label exceeds ``values``, or a target parcel has no
        painted vertex.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    src = np.asarray(source_labels)
    tgt = np.asarray(target_labels)
    if src.shape != tgt.shape or src.ndim != 1:
        raise ValueError(f"source_labels and target_labels must be 1-D and of one length; "
                         f"got {src.shape} and {tgt.shape}")
    if src.max() > values.size:
        raise ValueError(f"source_labels reach {src.max()} but values has {values.size} entries")
    keep = (src > 0) & (tgt > 0)
    n = int(tgt.max())
    painted = values[src[keep] - 1]
    counts = np.bincount(tgt[keep], minlength=n + 1)[1:]
    if np.any(counts == 0):
        raise ValueError(f"target parcels {np.flatnonzero(counts == 0) + 1} have no source-labelled vertex")
    return np.bincount(tgt[keep], weights=painted, minlength=n + 1)[1:] / counts
