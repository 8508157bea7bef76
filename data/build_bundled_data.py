"""Build the per-parcel derivatives that ship inside the package, from the pinned raw inputs.

Run from the repository root, pointing at a folder laid out like the data directory
(``<folder>/<file>`` as in :data:`conn2rnn.datasets.registry.FILES`)::

    python data/build_bundled_data.py --source ../shared/data

Every input is read through the package's checksummed fetchers with network access
disabled, so a missing or modified input stops the build. For each Schaefer atlas
(100, 200, 400 parcels, 7Networks order) it writes
``conn2rnn/datasets/atlas_tables/schaefer{N}_data.npz`` (one deflated archive with
fixed timestamps: the same inputs give the same bytes) and records in
``conn2rnn/datasets/atlas_tables/bundled_data.json`` each archive's sha256 and size and,
for every array, its description, units, inputs (with sha256), licence and citation.
See ``data/README.md`` for what each array is and how it was derived.
"""

from __future__ import annotations

import argparse
import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from conn2rnn.datasets import bundled, fetchers, registry, timescale_maps
from conn2rnn.datasets._download import fetch_file

OUT = Path(__file__).resolve().parents[1] / "conn2rnn" / "datasets" / "atlas_tables"
RESOLUTIONS = (100, 200, 400)
_OFFLINE = "http://127.0.0.1:9/offline"  # nothing listens there: no input is downloaded


def _inputs(*entries: registry.RemoteFile) -> dict[str, str]:
    return {e.relpath: e.sha256 for e in entries}


def _provenance(dataset: str) -> dict[str, str]:
    info = registry.DATASETS[dataset]
    return {"source": info.source, "license": info.license, "citation": info.citation}


#: What each array is: description, units, dataset of provenance, pinned inputs.
ARRAY_INFO = {
    "enigma_sc": ("ENIGMA HCP group structural connectome (log-transformed SIFT2 streamline weights, "
                  "symmetric, zero diagonal), sc[target, source]", "log streamline weight", "enigma_hcp",
                  lambda n: _inputs(registry.enigma_files(n)["sc"], registry.enigma_files(n)["sc_labels"],
                                    registry.centroids_file(n))),
    "enigma_fc": ("ENIGMA HCP group resting-state functional connectivity (Fisher z, negatives set to 0)",
                  "Fisher z", "enigma_hcp",
                  lambda n: _inputs(registry.enigma_files(n)["fc"], registry.enigma_files(n)["fc_labels"],
                                    registry.centroids_file(n))),
    "cbig_centroids": ("CBIG MNI152 volume centroids of the Schaefer parcels (RAS: x, y, z)", "mm",
                       "schaefer2018", lambda n: _inputs(registry.centroids_file(n))),
    "sa_axis": ("Sydnor S-A axis: mean fsLR-32k vertex rank per parcel (brainspace's conte69 Schaefer "
                "labels; medial wall and 0-valued vertices left out); higher = more associative", "rank",
                "sa_axis", lambda n: _inputs(*registry.sa_axis_files().values())),
    "int_hbn_median": ("HBN resting-state fMRI INT (ACF sum to the first zero crossing x TR), median over "
                       "876 subjects aged 5-21; Schaefer-400 values carried by vertex overlap to 100/200",
                       "s", "int_hbn", lambda n: _inputs(registry.int_hbn_file(n))),
    "int_hbn_mean": ("the same HBN INT, mean over subjects", "s", "int_hbn",
                     lambda n: _inputs(registry.int_hbn_file(n))),
    "int_hcp_ito2020": ("HCP young-adult resting-state fMRI timescale (Ito 2020): exponential decay "
                        "constant of the BOLD ACF over 100 lags; taus > 50 TR dropped, mean over 352 "
                        "subjects, x 0.72 s; Glasser values painted on fsLR-32k vertices and averaged "
                        "within each Schaefer parcel", "s", "int_hcp_ito2020",
                        lambda n: _inputs(*registry.ito_files().values())),
    "int_hcp_ito2020_half1": ("the same, discovery half (176 subjects)", "s", "int_hcp_ito2020",
                              lambda n: _inputs(*registry.ito_files().values())),
    "int_hcp_ito2020_half2": ("the same, replication half (176 subjects)", "s", "int_hcp_ito2020",
                              lambda n: _inputs(*registry.ito_files().values())),
    "meg_timescale": ("HCP MEG intrinsic timescale (neuromaps hcps1200/megtimescale, 33 subjects), "
                      "Schaefer-400 values carried by vertex overlap to 100/200", "ms", "meg_timescale",
                      lambda n: _inputs(registry.meg_timescale_file())),
}


def build_arrays(source: Path, n: int) -> dict[str, np.ndarray]:
    """Every bundled array of Schaefer-``n`` from the raw inputs under ``source``.

    Parameters
    ----------
    source : Path
        A folder laid out like the data directory, holding every pinned input.
    n : {100, 200, 400}

    Returns
    -------
    dict of str to ndarray
        The keys of :data:`conn2rnn.datasets.bundled.BUNDLED_ARRAYS`, float64.
    """
    get = {"data_dir": source, "base_url": _OFFLINE}
    enigma = fetchers.fetch_enigma_hcp(n, **get)
    centroids = fetchers.fetch_cbig_centroids(n, **get)
    hbn = fetchers.fetch_int_hbn(n, **get)
    ito = {key: fetch_file(entry, source, base_url=_OFFLINE) for key, entry in registry.ito_files().items()}
    halves = [timescale_maps.read_ito_taus(ito[k]) for k in ("discovery", "replication")]
    glasser = timescale_maps.glasser_vertex_labels(ito["dlabel"])
    schaefer = fetchers.schaefer_vertex_labels(n)

    def ito_map(*tables: np.ndarray) -> np.ndarray:
        return timescale_maps.carry_parcel_values(timescale_maps.ito_parcel_taus(*tables), glasser, schaefer)

    meg400 = np.load(fetch_file(registry.meg_timescale_file(), source, base_url=_OFFLINE)).astype(np.float64)
    if meg400.shape != (400,):
        raise ValueError(f"the MEG timescale file must hold 400 values; got {meg400.shape}")
    meg = meg400 if n == 400 else timescale_maps.carry_parcel_values(
        meg400, fetchers.schaefer_vertex_labels(400), schaefer)
    arrays = {
        "enigma_sc": enigma["sc"],
        "enigma_fc": enigma["fc"],
        "cbig_centroids": centroids[["x", "y", "z"]].to_numpy(dtype=np.float64),
        "sa_axis": fetchers.fetch_sa_axis(n, **get),
        "int_hbn_median": hbn["INT_acfsum_s_median"].to_numpy(dtype=np.float64),
        "int_hbn_mean": hbn["INT_acfsum_s_mean"].to_numpy(dtype=np.float64),
        "int_hcp_ito2020": ito_map(*halves),
        "int_hcp_ito2020_half1": ito_map(halves[0]),
        "int_hcp_ito2020_half2": ito_map(halves[1]),
        "meg_timescale": meg,
    }
    return {key: np.asarray(arrays[key], dtype=np.float64) for key in bundled.BUNDLED_ARRAYS}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "nibabel", "brainspace", "conn2rnn"):
        out[pkg] = metadata.version(pkg)
    return out


def build(source: Path, out: Path = OUT) -> dict:
    """Build every archive into ``out`` and write the provenance record; return the record."""
    files = {}
    for n in RESOLUTIONS:
        name = bundled.bundle_filename(n)
        sha = bundled.write_bundle(build_arrays(source, n), out / name)
        files[name] = {"sha256": sha, "bytes": (out / name).stat().st_size}
        print(f"{name}: {files[name]['bytes']} bytes, sha256 {sha}")
    arrays = {}
    for key, (description, units, dataset, inputs) in ARRAY_INFO.items():
        arrays[key] = {"description": description, "units": units, "dataset": dataset,
                       "inputs": {f"schaefer{n}": inputs(n) for n in RESOLUTIONS}, **_provenance(dataset)}
    record = {"files": files, "arrays": arrays, "built_with": _versions(), "hcp_notice": registry.HCP_NOTICE}
    (out / bundled.MANIFEST).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="folder laid out like the data directory, holding every pinned input")
    parser.add_argument("--out", type=Path, default=OUT, help="where the archives go (default: the package)")
    args = parser.parse_args()
    if not args.source.is_dir():
        parser.error(f"--source must be an existing folder; got {args.source}")
    build(args.source.resolve(), args.out)


if __name__ == "__main__":
    main()
