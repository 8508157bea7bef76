"""Comparing brain maps (one value per region) under spatial null models.

Neighbouring regions have similar values, so a naive correlation test between two
maps is anti-conservative.  Two nulls keep the spatial autocorrelation of the map
that is permuted:

- ``"spin"``: random rotations of the cortical sphere (Alexander-Bloch et al. 2018),
  through :func:`neuromaps.nulls.spins.gen_spinsamples`; needs sphere coordinates
  and hemisphere labels (surface parcellations such as Schaefer).
- ``"surrogate"``: spatial-autoregressive surrogates that keep the map's
  distance-dependent autocorrelation and its value distribution (Burt et al. 2018,
  Nat Neurosci 21:1251), through :mod:`neuromaps.nulls.burt`; needs only a region
  distance matrix (any parcellation, e.g. AAL2 or subcortex).

In :func:`compare_maps` the first map ``x`` is the one permuted; ``y`` stays fixed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_int, check_seed, to_numpy

__all__ = ["MapComparison", "spin_nulls", "surrogate_nulls", "compare_maps", "compare_regimes"]

_METHODS = ("spearman", "pearson")
_NULLS = (None, "spin", "surrogate")
_SPIN_METHODS = ("hungarian", "vasa", "original")


@dataclass(frozen=True)
class MapComparison:
    """Result of :func:`compare_maps`.

    Attributes
    ----------
    r : float
        Spearman rho or Pearson r between the maps.
    p_null : float
        Two-sided p against the spatial null, ``(1 + #{|r_null| >= |r|}) / (1 + n_perm)``;
        NaN when ``null`` is None.
    p_parametric : float
        Two-sided p of the naive test (assumes independent regions).
    n_perm : int
        Number of null maps (0 when ``null`` is None).
    method : str
        "spearman" or "pearson".
    null : str or None
        "spin", "surrogate", "precomputed" or None.
    n : int
        Number of regions used.
    n_dropped : int
        Regions dropped because either map was NaN there.
    """

    r: float
    p_null: float
    p_parametric: float
    n_perm: int
    method: str
    null: str | None
    n: int
    n_dropped: int


def _vector(values: Any, name: str) -> np.ndarray:
    values = to_numpy(values)
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D map with one value per region; got shape {arr.shape}")
    return arr


def _check_finite(values: np.ndarray, name: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(
            f"{name} contains {int((~np.isfinite(values)).sum())} NaN/inf values; null models need "
            "complete inputs (compare_maps drops regions where a map is NaN)"
        )


def _seed_int(seed: int | np.random.Generator) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return check_seed(seed)
    raise TypeError(f"seed must be an int or numpy.random.Generator; got {type(seed).__name__}")


def _check_n_perm(n_perm: Any) -> int:
    return check_int(n_perm, "n_perm", low=1)


def _check_distinct_coords(coords: np.ndarray) -> None:
    """Spin tests match regions by position: every region needs its own centroid."""
    if not np.isfinite(coords).all():
        raise ValueError("sphere_coords contains NaN or infinite values; give every region a "
                         "centroid on the sphere")
    _, first, counts = np.unique(coords, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        dup = np.flatnonzero(np.all(coords == coords[first[counts > 1][0]], axis=1))
        raise ValueError(
            f"sphere_coords has {int((counts - 1).sum())} duplicated row(s) (e.g. regions "
            f"{dup.tolist()[:5]} share one centroid); rotated regions are matched by position, so "
            "each region needs its own centroid: drop or merge duplicated regions, or use "
            "null='surrogate' (distance-based)")


def _hemisphere_ids(hemispheres: Any, n: int) -> np.ndarray:
    hemi = np.asarray(hemispheres)
    if hemi.dtype.kind == "O" and all(isinstance(h, str) for h in hemi.ravel()):
        hemi = hemi.astype(str)
    if hemi.shape != (n,):
        raise ValueError(f"hemispheres must have shape ({n},) like the map; got {hemi.shape}")
    if hemi.dtype.kind in "US":
        lookup = {"L": 0, "R": 1, "l": 0, "r": 1}
        bad = sorted(set(hemi.tolist()) - set(lookup))
        if bad:
            raise ValueError(f"hemispheres must be 'L'/'R' (or 0/1); got labels {bad}")
        return np.array([lookup[h] for h in hemi], dtype=int)
    if not np.isin(hemi, (0, 1)).all():
        raise ValueError(f"hemispheres must be 'L'/'R' or 0/1; got values {np.unique(hemi)}")
    return hemi.astype(int)


def spin_nulls(
    values: Any,
    sphere_coords: Any,
    hemispheres: Any,
    n_perm: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    method: str = "hungarian",
) -> np.ndarray:
    """Spin-test null maps: the map resampled after random rotations of the sphere.

    Parameters
    ----------
    values : (N,) array_like
        Regional map, no NaN.
    sphere_coords : (N, 3) array_like
        Region centroids on the spherical surface (e.g. conte69/fsLR sphere, each
        hemisphere centred on the origin); not MNI coordinates. Rows must be
        distinct: duplicated centroids raise a ValueError (rotated regions are
        matched by position).
    hemispheres : (N,) array_like
        'L'/'R' or 0/1 (left/right).  The right hemisphere is rotated by the mirror
        image of the left rotation.
    n_perm : int, default 1000
    seed : int or numpy.random.Generator, default 0
    method : {"hungarian", "vasa", "original"}, default "hungarian"
        How rotated regions are matched to original ones: "hungarian" and "vasa"
        give true permutations; "original" (nearest neighbour) may repeat regions.

    Returns
    -------
    nulls : (n_perm, N) ndarray
    """
    from neuromaps.nulls.spins import gen_spinsamples  # heavy; only for spin and surrogate nulls

    vals = _vector(values, "values")
    _check_finite(vals, "values")
    coords = np.array(sphere_coords, dtype=np.float64)
    if coords.shape != (vals.size, 3):
        raise ValueError(f"sphere_coords must have shape ({vals.size}, 3); got {coords.shape}")
    _check_distinct_coords(coords)
    if method not in _SPIN_METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(_SPIN_METHODS)}")
    spins = gen_spinsamples(
        coords,
        _hemisphere_ids(hemispheres, vals.size),
        n_rotate=_check_n_perm(n_perm),
        method=method,
        seed=_seed_int(seed),
    )
    return vals[spins.T]


def surrogate_nulls(
    values: Any,
    distance: Any,
    n_perm: int = 1000,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Distance-preserving surrogate maps (spatial-autoregressive model, Burt et al. 2018).

    The map is Box-Cox transformed and fitted by ``y = rho * W(d0) y + noise`` with
    ``W`` the row-normalised ``exp(-d / d0)`` kernel; surrogates solve the model for
    fresh Gaussian noise and are then rank-matched to the original values, so each
    is a permutation of ``values`` with similar spatial autocorrelation.

    Parameters
    ----------
    values : (N,) array_like
        Regional map, no NaN, not constant.
    distance : (N, N) array_like
        Symmetric region-to-region distance, mm, zero diagonal (Euclidean or
        geodesic).
    n_perm : int, default 1000
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    nulls : (n_perm, N) ndarray
    """
    from neuromaps.nulls.burt import batch_surrogates, estimate_rho_d0  # heavy; only for spin and surrogate nulls

    vals = _vector(values, "values")
    _check_finite(vals, "values")
    if np.ptp(vals) == 0:
        raise ValueError("values is constant; a constant map has no spatial null")
    dist = np.array(distance, dtype=np.float64)
    n = vals.size
    if dist.shape != (n, n):
        raise ValueError(f"distance must have shape ({n}, {n}); got {dist.shape}")
    _check_finite(dist.ravel(), "distance")
    if not np.allclose(dist, dist.T) or (dist < 0).any():
        raise ValueError("distance must be symmetric and non-negative (mm)")
    off = dist[~np.eye(n, dtype=bool)]
    if (off <= 0).any():
        raise ValueError("distance must be positive between distinct regions (duplicate coordinates?)")
    # Box-Cox needs positive data; a shift leaves ranks, hence surrogates, unchanged.
    positive = vals - vals.min() + 0.1 * np.ptp(vals)
    rho, d0 = estimate_rho_d0(dist, positive, d0=float(np.median(off)))
    surr = batch_surrogates(dist, vals, rho=rho, d0=d0, seed=_seed_int(seed), n_surr=_check_n_perm(n_perm))
    return np.ascontiguousarray(surr.T)


def _rank_rows(a: np.ndarray) -> np.ndarray:
    return stats.rankdata(a, axis=-1)


def _row_corr(nulls: np.ndarray, y: np.ndarray, method: str) -> np.ndarray:
    if method == "spearman":
        nulls, y = _rank_rows(nulls), _rank_rows(y)
    nc = nulls - nulls.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return nc @ yc / (np.linalg.norm(nc, axis=1) * np.linalg.norm(yc))


def compare_maps(
    x: Any,
    y: Any,
    *,
    method: str = "spearman",
    nulls: str | np.ndarray | None = None,
    sphere_coords: Any = None,
    hemispheres: Any = None,
    distance: Any = None,
    n_perm: int = 1000,
    seed: int | np.random.Generator = 0,
    spin_method: str = "hungarian",
) -> MapComparison:
    """Correlation of two regional maps with a spatial-null p value.

    Parameters
    ----------
    x, y : (N,) array_like
        Maps in the same region order; ``x`` is the one permuted by the null.
        Regions where either is NaN are dropped, with a warning giving the count.
    method : {"spearman", "pearson"}, default "spearman"
    nulls : {None, "spin", "surrogate"} or (n_perm, N) array_like, default None
        None: parametric p only.  "spin" needs ``sphere_coords`` and
        ``hemispheres``; "surrogate" needs ``distance`` (see :func:`spin_nulls`,
        :func:`surrogate_nulls`).  An array holds null maps of ``x`` made once
        (e.g. of an empirical map) and reused across many ``y``; the result's
        ``null`` is then "precomputed".
    sphere_coords : (N, 3) array_like, optional
    hemispheres : (N,) array_like, optional
    distance : (N, N) array_like, optional
        mm.
    n_perm : int, default 1000
    seed : int or numpy.random.Generator, default 0
    spin_method : {"hungarian", "vasa", "original"}, default "hungarian"

    Returns
    -------
    MapComparison
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(_METHODS)}")
    xv, yv = _vector(x, "x"), _vector(y, "y")
    if xv.size != yv.size:
        raise ValueError(f"x and y must have the same length; got {xv.size} and {yv.size}")
    given = None
    if nulls is not None and not isinstance(nulls, str):
        given = np.array(nulls, dtype=np.float64)
        if given.ndim != 2 or given.shape[1] != xv.size:
            raise ValueError(f"nulls as an array must have shape (n_perm, {xv.size}); got {given.shape}")
        if not np.all(np.isin(given[np.isfinite(given)], xv[np.isfinite(xv)])):
            raise ValueError("nulls as an array must be null maps of x, the first argument (spins and "
                             "surrogates resample its values), but they hold other values; pass the map "
                             "the nulls were made from as x")
        nulls = "precomputed"
    elif nulls not in _NULLS:
        raise ValueError(f"unknown nulls {nulls!r}; valid choices: None, 'spin', 'surrogate', or an array")
    if nulls == "spin" and (sphere_coords is None or hemispheres is None):
        raise ValueError("nulls='spin' needs sphere_coords (N, 3) and hemispheres (N,)")
    if nulls == "surrogate" and distance is None:
        raise ValueError("nulls='surrogate' needs distance (N, N) in mm")
    for arg, value, shape in (
        ("sphere_coords", sphere_coords, (xv.size, 3)),
        ("hemispheres", hemispheres, (xv.size,)),
        ("distance", distance, (xv.size, xv.size)),
    ):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{arg} must have shape {shape} to match x; got {np.shape(value)}")
    keep = np.isfinite(xv) & np.isfinite(yv)
    n_dropped = int((~keep).sum())
    if n_dropped:
        warnings.warn(
            f"dropped {n_dropped} of {xv.size} regions where x or y is NaN/inf", RuntimeWarning, stacklevel=2
        )
    xv, yv = xv[keep], yv[keep]
    if xv.size < 3 or np.ptp(xv) == 0 or np.ptp(yv) == 0:
        raise ValueError(
            f"need at least 3 regions and non-constant maps to correlate; got {xv.size} usable regions"
        )
    test = stats.spearmanr if method == "spearman" else stats.pearsonr
    res = test(xv, yv)
    r, p_par = float(res[0]), float(res[1])
    p_null, used = float("nan"), 0
    if nulls == "spin":
        coords = np.asarray(sphere_coords)[keep]
        hemi = np.asarray(hemispheres)[keep]
        null_maps = spin_nulls(xv, coords, hemi, n_perm, seed, method=spin_method)
    elif nulls == "surrogate":
        null_maps = surrogate_nulls(xv, np.asarray(distance)[np.ix_(keep, keep)], n_perm, seed)
    elif nulls == "precomputed":
        null_maps = given[:, keep]
        _check_finite(null_maps.ravel(), "nulls")
    if nulls is not None:
        r_null = _row_corr(null_maps, yv, method)
        used = null_maps.shape[0]
        p_null = float((1 + np.sum(np.abs(r_null) >= abs(r) - 1e-12)) / (1 + used))
    return MapComparison(
        r=r, p_null=p_null, p_parametric=p_par, n_perm=used, method=method,
        null=nulls, n=int(xv.size), n_dropped=n_dropped,
    )


def _regime_values(items: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    seq = list(items) if not isinstance(items, np.ndarray) else list(items.ravel())
    if not seq:
        raise ValueError(f"regime {name!r} has no networks")
    if all(isinstance(it, MapComparison) for it in seq):
        r = np.array([it.r for it in seq], dtype=float)
        p = np.array([it.p_parametric if it.null is None else it.p_null for it in seq], dtype=float)
        return r, p
    if all(isinstance(it, tuple) and len(it) == 2 for it in seq):
        pairs = np.array(seq, dtype=float)
        return pairs[:, 0], pairs[:, 1]
    try:
        return np.array(seq, dtype=float), np.full(len(seq), np.nan)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"regime {name!r} must hold MapComparison results or numbers; got {type(seq[0]).__name__}"
        ) from err


def compare_regimes(
    results: Mapping[str, Sequence[MapComparison] | Sequence[float] | np.ndarray],
    *,
    reference: str | None = "vanilla",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Summarise map correlations of K networks per regime and test them against a reference.

    Parameters
    ----------
    results : mapping regime name -> sequence
        Per regime, one entry per network: :class:`MapComparison` objects (their
        ``p_null``, or ``p_parametric`` when no null was used, decides
        significance), ``(r, p)`` pairs (e.g. read back from a results table), or
        plain correlation values (significance is then NaN).
    reference : str or None, default "vanilla"
        Regime every other one is compared with (two-sided Mann-Whitney U on the
        correlations); None skips the comparison.
    alpha : float, default 0.05
        Significance level for ``frac_significant``.

    Returns
    -------
    pandas.DataFrame
        One row per regime: ``regime, n_networks, r_mean, r_sd, r_median, r_q25,
        r_q75, frac_significant, frac_significant_positive, reference,
        median_diff_vs_reference, mwu_u, mwu_p``.  NaN correlations are left out
        of the statistics (``n_networks`` counts the finite ones).
    """
    if not results:
        raise ValueError("results is empty; pass {regime: [MapComparison or r, ...]}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}")
    values = {name: _regime_values(items, name) for name, items in results.items()}
    if reference is not None and reference not in values:
        raise ValueError(
            f"reference regime {reference!r} not in results; available: {', '.join(map(str, values))} "
            "(or pass reference=None)"
        )
    ref_r = values[reference][0] if reference is not None else None
    rows = []
    for name, (r, p) in values.items():
        ok = np.isfinite(r)
        r_ok, p_ok = r[ok], p[ok]
        sig = p_ok < alpha
        row = {
            "regime": name,
            "n_networks": int(ok.sum()),
            "r_mean": float(np.mean(r_ok)) if r_ok.size else np.nan,
            "r_sd": float(np.std(r_ok, ddof=1)) if r_ok.size > 1 else np.nan,
            "r_median": float(np.median(r_ok)) if r_ok.size else np.nan,
            "r_q25": float(np.quantile(r_ok, 0.25)) if r_ok.size else np.nan,
            "r_q75": float(np.quantile(r_ok, 0.75)) if r_ok.size else np.nan,
            "frac_significant": float(sig.mean()) if np.isfinite(p_ok).all() and p_ok.size else np.nan,
            "frac_significant_positive": (
                float((sig & (r_ok > 0)).mean()) if np.isfinite(p_ok).all() and p_ok.size else np.nan
            ),
            "reference": reference,
            "median_diff_vs_reference": np.nan,
            "mwu_u": np.nan,
            "mwu_p": np.nan,
        }
        ref_ok = ref_r[np.isfinite(ref_r)] if ref_r is not None else None
        if reference is not None and name != reference and r_ok.size and ref_ok.size:
            mwu = stats.mannwhitneyu(r_ok, ref_ok, alternative="two-sided")
            row["median_diff_vs_reference"] = float(np.median(r_ok) - np.median(ref_ok))
            row["mwu_u"], row["mwu_p"] = float(mwu.statistic), float(mwu.pvalue)
        rows.append(row)
    return pd.DataFrame(rows)
