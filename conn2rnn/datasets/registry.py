"""Pinned sources of every file the fetchers obtain.

Each file is identified by its path relative to the data directory
(``<data_dir>/<folder>/<file>``); that relative path is also its path on a
mirror (see :func:`conn2rnn.datasets._download.resolve_url`). Public files are
pinned to a commit of their source repository and to a sha256 checksum and a
size in bytes. The intrinsic-timescale tables are derived locally from a source
archive (:mod:`conn2rnn.datasets.hbn_int`); their checksums identify the
reference build.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CITATIONS",
    "HCP_NOTICE",
    "Dataset",
    "RemoteFile",
    "SourceArchive",
    "DATASETS",
    "FILES",
    "N_PARCELS",
    "SHAFIEI_ARCHIVE",
    "get_file",
    "centroids_file",
    "enigma_files",
    "sa_axis_files",
    "sa_rank_file",
    "schaefer_mapper_file",
    "int_hbn_file",
    "ito_files",
    "meg_timescale_file",
]

N_PARCELS: tuple[int, ...] = (100, 200, 400)
"""Schaefer 2018 resolutions (7Networks order) covered by the fetchers."""

_RAW = "https://raw.githubusercontent.com"

_CBIG = (
    f"{_RAW}/ThomasYeoLab/CBIG/d1454a611f7de10a3b36665e6fbb3fb6c770d140/"
    "stable_projects/brain_parcellation/Schaefer2018_LocalGlobal/Parcellations/"
    "MNI/Centroid_coordinates"
)
_ENIGMA = (
    f"{_RAW}/MICA-MNI/ENIGMA/d66a7ef320a913f9441bf1089b44f1dad11e5724/"
    "enigmatoolbox/datasets/matrices/hcp_connectivity"
)
_SA_AXIS = (
    f"{_RAW}/PennLINC/S-A_ArchetypalAxis/edaad95a9c2eb3b5c44567907b8d4343d357651d/"
    "FSLRVertex"
)
_SHAFIEI_COMMIT = "39dfee76878096f789327222157acabf8dbda760"
_SHAFIEI = f"{_RAW}/PennLINC/shafiei_timescale/{_SHAFIEI_COMMIT}/data/SchaeferParcellation"
_ITO_COMMIT = "245f89bd8e991827c7b928458d48f24779f0f2ca"
_ITO = f"{_RAW}/ColeLab/hierarchy2020/{_ITO_COMMIT}/resultdata"
_MILISAV_COMMIT = "52fd19ba8d7080747300b03688483ef6586261a5"
_MILISAV = f"{_RAW}/fmilisav/milisav_hierarchical_modularity/{_MILISAV_COMMIT}/data"

HCP_NOTICE = (
    "Derived from Human Connectome Project data (WU-Minn Consortium; principal "
    "investigators David Van Essen and Kamil Ugurbil; 1U54MH091657), funded by the "
    "16 NIH Institutes and Centers that support the NIH Blueprint for Neuroscience "
    "Research and by the McDonnell Center for Systems Neuroscience at Washington "
    "University. Use and redistribution are subject to the HCP Open Access Data Use "
    "Terms: derived data may be redistributed only under the same terms (clause 4), "
    "and HCP must be acknowledged (clause 5)."
)


#: What to cite, by key; every citation of the package is written here once.
CITATIONS = {
    "schaefer": "Schaefer A, Kong R, Gordon EM, et al. (2018). Local-global parcellation of the human "
                "cerebral cortex from intrinsic functional connectivity MRI. Cerebral Cortex 28:3095-3114.",
    "yeo": "Yeo BTT, Krienen FM, Sepulcre J, et al. (2011). The organization of the human cerebral "
           "cortex estimated by intrinsic functional connectivity. J Neurophysiol 106:1125-1165.",
    "brainspace": "Vos de Wael R, Benkarim O, Paquola C, et al. (2020). BrainSpace: a toolbox for the "
                  "analysis of macroscale gradients in neuroimaging and connectomics datasets. "
                  "Commun Biol 3:103.",
    "hcp": "Van Essen DC, Smith SM, Barch DM, et al. (2013). The WU-Minn Human Connectome Project: "
           "an overview. NeuroImage 80:62-79.",
    "enigma_hcp": "Lariviere S, Paquola C, Park B, et al. (2021). The ENIGMA Toolbox: multiscale neural "
                  "contextualization of multisite neuroimaging datasets. Nature Methods 18:698-700.",
    "sa_axis": "Sydnor VJ, Larsen B, Bassett DS, et al. (2021). Neurodevelopment of the association "
               "cortices: patterns, mechanisms, and implications for psychopathology. Neuron 109:2820-2846.",
    "int_hbn": "Alexander LM, Escalera J, Ai L, et al. (2017). An open resource for transdiagnostic "
               "research in pediatric mental health and learning disorders. Scientific Data 4:170181. "
               "Per-run timescales from Shafiei G et al., https://github.com/PennLINC/shafiei_timescale.",
    "int_hcp_ito2020": "Ito T, Hearne LJ, Cole MW (2020). A cortical hierarchy of localized and distributed "
                       "processes revealed via dissociation of task activations, connectivity changes, and "
                       "intrinsic timescales. NeuroImage 221:117141.",
    "glasser": "Glasser MF, Coalson TS, Robinson EC, et al. (2016). A multi-modal parcellation of human "
               "cerebral cortex. Nature 536:171-178.",
    "meg_timescale": "Shafiei G, Baillet S, Misic B (2022). Human electromagnetic and haemodynamic networks "
                     "systematically converge in unimodal cortex and diverge in transmodal cortex. PLoS Biology "
                     "20:e3001735 (the neuromaps annotation hcps1200/megtimescale). Schaefer-400 parcel values "
                     "from Milisav F et al., https://github.com/fmilisav/milisav_hierarchical_modularity.",
}


@dataclass(frozen=True)
class Dataset:
    """Provenance shared by a group of files.

    Attributes
    ----------
    name : str
        Folder of the data directory that holds the files.
    description : str
        What the files contain.
    source : str
        Public repository and commit the files come from.
    license : str
        License or terms of use.
    citation : str
        Publication(s) to cite.
    """

    name: str
    description: str
    source: str
    license: str
    citation: str


@dataclass(frozen=True)
class RemoteFile:
    """One pinned file.

    Attributes
    ----------
    relpath : str
        Path relative to the data directory, ``"<folder>/<file>"``.
    url : str or None
        Pinned public URL; None for tables built locally from a source archive.
    sha256 : str
        Expected sha256 hex digest.
    size : int
        Expected size in bytes.
    dataset : str
        Key into :data:`DATASETS`.
    """

    relpath: str
    url: str | None
    sha256: str
    size: int
    dataset: str


DATASETS: dict[str, Dataset] = {
    "schaefer2018": Dataset(
        name="schaefer2018",
        description="MNI152 centroids (RAS, mm) and ROI names of the Schaefer 2018 "
        "cortical parcellation, 7Networks order, left hemisphere first.",
        source="ThomasYeoLab/CBIG @ d1454a611f7de10a3b36665e6fbb3fb6c770d140",
        license="MIT",
        citation=CITATIONS["schaefer"],
    ),
    "enigma_hcp": Dataset(
        name="enigma_hcp",
        description="Group structural connectome (HCP unrelated adults; MRtrix3 ACT, "
        "SIFT2, distance-dependent consensus, log-transformed weights; symmetric, "
        "zero diagonal) and group functional connectivity (HCP rs-fMRI, Fisher z, "
        "negative values set to 0), Schaefer 7Networks order.",
        source="MICA-MNI/ENIGMA @ d66a7ef320a913f9441bf1089b44f1dad11e5724",
        license="BSD-3-Clause (ENIGMA Toolbox) + HCP Open Access Data Use Terms. "
        + HCP_NOTICE,
        citation=CITATIONS["enigma_hcp"] + " " + CITATIONS["hcp"],
    ),
    "sa_axis": Dataset(
        name="sa_axis",
        description="Sensorimotor-association (S-A) axis vertex ranks on fsLR-32k "
        "(0 on the medial wall), the S-A rank of Schaefer-400 parcels, and the "
        "Schaefer-400 17Networks -> 7Networks parcel order map.",
        source="PennLINC/S-A_ArchetypalAxis @ edaad95a9c2eb3b5c44567907b8d4343d357651d "
        f"(vertex maps); PennLINC/shafiei_timescale @ {_SHAFIEI_COMMIT} (tables)",
        license="S-A_ArchetypalAxis: no license file, cite the paper; "
        "shafiei_timescale: MIT",
        citation=CITATIONS["sa_axis"],
    ),
    "int_hbn": Dataset(
        name="int_hbn",
        description="Empirical intrinsic neural timescale from resting-state fMRI of "
        "the Healthy Brain Network: per run, the sum of the BOLD autocorrelation "
        "function up to its first zero crossing times TR (seconds); runs averaged "
        "within subject, then median / mean / sd over subjects; Schaefer-400 "
        "7Networks order, carried to Schaefer-100/200 by vertex overlap.",
        source=f"derived from PennLINC/shafiei_timescale @ {_SHAFIEI_COMMIT}, "
        "data/timescale/HBN_acf/TRorig/*task-rest*_timescale_acfsum_TRorig.npy",
        license="MIT (shafiei_timescale); the Healthy Brain Network release needs no "
        "data-use agreement, cite it",
        citation=CITATIONS["int_hbn"],
    ),
    "int_hcp_ito2020": Dataset(
        name="int_hcp_ito2020",
        description="Empirical intrinsic timescale of HCP young-adult resting-state fMRI: per "
        "subject (352: discovery and replication files of 176), all four rest runs concatenated, "
        "the decay constant of an exponential fitted to each Glasser parcel's BOLD "
        "autocorrelation over 100 lags, in TRs (0.72 s); the Glasser fsLR-32k CIFTI labels and "
        "the Cole-Anticevic network of each parcel.",
        source=f"ColeLab/hierarchy2020 @ {_ITO_COMMIT}, resultdata/",
        license="No license file in the repository; HCP Open Access Data Use Terms (derived data). "
        + HCP_NOTICE,
        citation=CITATIONS["int_hcp_ito2020"] + " " + CITATIONS["glasser"] + " " + CITATIONS["hcp"],
    ),
    "meg_timescale": Dataset(
        name="meg_timescale",
        description="HCP MEG intrinsic timescale (33 subjects; neuromaps hcps1200/megtimescale), "
        "Schaefer-400 7Networks order, ms.",
        source=f"fmilisav/milisav_hierarchical_modularity @ {_MILISAV_COMMIT}, data/parc_timescales.npy",
        license="BSD-3-Clause (repository) + HCP Open Access Data Use Terms. " + HCP_NOTICE,
        citation=CITATIONS["meg_timescale"] + " " + CITATIONS["hcp"],
    ),
}


def _entries() -> dict[str, RemoteFile]:
    rows = [
        # (folder, file, url prefix, bytes, sha256)
        ("schaefer2018", "Schaefer2018_100Parcels_7Networks_order_FSLMNI152_1mm.Centroid_RAS.csv", _CBIG, 3936, "d2814735c4bb3bcea2d9786b68aac48012a997a8f4856fe56ddff9cc13796a53"),
        ("schaefer2018", "Schaefer2018_200Parcels_7Networks_order_FSLMNI152_1mm.Centroid_RAS.csv", _CBIG, 7975, "3e3203c22db0e3dbecedecd07b091252a7b04d21d2e11498d6926a31cb954e1a"),
        ("schaefer2018", "Schaefer2018_400Parcels_7Networks_order_FSLMNI152_1mm.Centroid_RAS.csv", _CBIG, 16115, "b8ef22849c62d4c198fe61dee327f82e302ca24f7e83c74e49c5f4f100cdd81d"),
        ("enigma_hcp", "funcLabels_ctx_schaefer_100.csv", _ENIGMA, 2627, "27f695aec7c095e95c1b0215ebf6ab232d7e97bd2d26e0e47821b59b2ecfaaf3"),
        ("enigma_hcp", "funcLabels_ctx_schaefer_200.csv", _ENIGMA, 5277, "dc3766a114ab914ff1d8e4981eb063157eeff45671c524023d9d634e767f88e5"),
        ("enigma_hcp", "funcLabels_ctx_schaefer_400.csv", _ENIGMA, 10623, "e110788738d34831958abf33ded83d06c2c46de18d5419d85f3bc0e9a3475c07"),
        ("enigma_hcp", "funcMatrix_ctx_schaefer_100.csv", _ENIGMA, 78476, "2aa7422195916c4a450f57442fadcf5c26ca82571cd63c25cd98f7e48b7cdd76"),
        ("enigma_hcp", "funcMatrix_ctx_schaefer_200.csv", _ENIGMA, 316718, "e1595f75722456151b803720119e6a49ed633e62fd0f1ba03d1c8e108d05fe42"),
        ("enigma_hcp", "funcMatrix_ctx_schaefer_400.csv", _ENIGMA, 1280986, "005390e68dbaccfc74dd4543fd39f6bdd92b5a5f5a7f403aa18e3f5b82be40e9"),
        ("enigma_hcp", "strucLabels_ctx_schaefer_100.csv", _ENIGMA, 2627, "27f695aec7c095e95c1b0215ebf6ab232d7e97bd2d26e0e47821b59b2ecfaaf3"),
        ("enigma_hcp", "strucLabels_ctx_schaefer_200.csv", _ENIGMA, 5277, "dc3766a114ab914ff1d8e4981eb063157eeff45671c524023d9d634e767f88e5"),
        ("enigma_hcp", "strucLabels_ctx_schaefer_400.csv", _ENIGMA, 10623, "e110788738d34831958abf33ded83d06c2c46de18d5419d85f3bc0e9a3475c07"),
        ("enigma_hcp", "strucMatrix_ctx_schaefer_100.csv", _ENIGMA, 30814, "dea65da4029e99880e649414ff258f2236e5e9cfae80d7c448dbd4d183ac014f"),
        ("enigma_hcp", "strucMatrix_ctx_schaefer_200.csv", _ENIGMA, 103628, "71f1111f25a3fd9b14a8647214019e332962924e856dc79edbeffb9ef635c638"),
        ("enigma_hcp", "strucMatrix_ctx_schaefer_400.csv", _ENIGMA, 368856, "f500dd0f9d613a905b342ce5d7ff404d5f46dbdc5b9f39ce366318011a656571"),
        ("sa_axis", "SensorimotorAssociation_Axis_LH.fslr32k.func.gii", _SA_AXIS, 110417, "08d92911dc5fa7095b26e70187410177c9d37f04bd1ff924f89f1eda8f91d91b"),
        ("sa_axis", "SensorimotorAssociation_Axis_RH.fslr32k.func.gii", _SA_AXIS, 110539, "993346965c35a3c9e3d0a5ce7129301c3200bda71c62f10219d73cb9f57ffd8f"),
        ("sa_axis", "SArank_schaefer400_7Networks.csv", _SHAFIEI, 12129, "8c7a6d2e94ff0a8455b244abef5be33457f2b130f3a5efc447b9e4d5d23ffd67"),
        ("sa_axis", "Schaefer_400-17_mappedto_400-7.csv", f"{_SHAFIEI}/schaefer_ordering_mapper", 25530, "9cc589c6051ab7b5b3e3cfce64dcdca03b2c2855cb9e8459af9a06b08d3c25ef"),
        ("int_hbn", "INT_HBN_rest_acfsum_schaefer100_7Networks.csv", None, 1962, "4b49f7d45dc7cea336df3fd0544a866c685b4c646f1dfcdd8cce6688115a1ee8"),
        ("int_hbn", "INT_HBN_rest_acfsum_schaefer200_7Networks.csv", None, 3908, "d79be39f9de3c3468d43ca3a5bd5a9e71aba48712c5a8a1c843d578aa4249fb9"),
        ("int_hbn", "INT_HBN_rest_acfsum_schaefer400_7Networks.csv", None, 34330, "0b84a2f1b84bbd06c7f5b46eeb46f07fa929ea69bb8fb9df1447237ba6e8911e"),
        ("int_hcp_ito2020", "Murray_taus_regions_autocorrelation_rest100.txt", f"{_ITO}/timescales", 1584000, "715b9be3cd2c739079b2bd3667d0a45234dd6136382910e3e34874aa7d0dc6ac"),
        ("int_hcp_ito2020", "Murray_taus_regions_autocorrelation_rest100_replication.txt", f"{_ITO}/timescales", 1584000, "6217d695b40d097a4c214ac2f4f417acb23cf9ce1a5f7c7b02b45d77e8807297"),
        ("int_hcp_ito2020", "Q1-Q6_RelatedParcellation210.LR.CorticalAreas_dil_Colors.32k_fs_RL.dlabel.nii", _ITO, 622176, "9138dfbebb2b4ff738e4962016a5abd7046ce2ead926460f89b058e745f28245"),
        ("int_hcp_ito2020", "network_partition.txt", _ITO, 737, "90f539d81e629852668b8236346a2f0e45846d3b153bd5770b972138b68000b9"),
        ("meg_timescale", "parc_timescales.npy", _MILISAV, 1728, "e51f1688104231c6ae76985f9eb5a68efe88abe5a06d0ce4840ef256f6608535"),
    ]  # fmt: skip
    return {
        f"{folder}/{name}": RemoteFile(
            relpath=f"{folder}/{name}",
            url=None if prefix is None else f"{prefix}/{name}",
            sha256=sha,
            size=size,
            dataset=folder,
        )
        for folder, name, prefix, size, sha in rows
    }


FILES: dict[str, RemoteFile] = _entries()
"""Every pinned file, keyed by its path relative to the data directory."""


@dataclass(frozen=True)
class SourceArchive:
    """A code-host archive of a repository at a pinned commit.

    Archives generated by a code host are not byte-stable, so no checksum of
    the archive itself is pinned; the builder verifies the extracted content.

    Attributes
    ----------
    url : str
        Archive URL at the pinned commit.
    relpath : str
        Path of the archive on a mirror laid out like the data directory.
    commit : str
        The pinned commit.
    """

    url: str
    relpath: str
    commit: str


SHAFIEI_ARCHIVE = SourceArchive(
    url=f"https://github.com/PennLINC/shafiei_timescale/archive/{_SHAFIEI_COMMIT}.zip",
    relpath=f"int_hbn/shafiei_timescale-{_SHAFIEI_COMMIT}.zip",
    commit=_SHAFIEI_COMMIT,
)


def get_file(relpath: str) -> RemoteFile:
    """Registry entry of one file.

    Parameters
    ----------
    relpath : str
        ``"<folder>/<file>"`` relative to the data directory.

    Returns
    -------
    RemoteFile
    """
    try:
        return FILES[relpath]
    except KeyError:
        raise ValueError(
            f"relpath must name a registered file; got {relpath!r}. "
            f"Valid choices: {sorted(FILES)}"
        ) from None


def centroids_file(n_parcels: int) -> RemoteFile:
    """CBIG centroid table of Schaefer-``n_parcels`` (7Networks)."""
    return get_file(
        f"schaefer2018/Schaefer2018_{n_parcels}Parcels_7Networks_order_FSLMNI152_1mm"
        ".Centroid_RAS.csv"
    )


def enigma_files(n_parcels: int) -> dict[str, RemoteFile]:
    """ENIGMA HCP files of Schaefer-``n_parcels``: keys sc, fc, sc_labels, fc_labels."""
    stem = f"ctx_schaefer_{n_parcels}.csv"
    return {
        "sc": get_file(f"enigma_hcp/strucMatrix_{stem}"),
        "fc": get_file(f"enigma_hcp/funcMatrix_{stem}"),
        "sc_labels": get_file(f"enigma_hcp/strucLabels_{stem}"),
        "fc_labels": get_file(f"enigma_hcp/funcLabels_{stem}"),
    }


def sa_axis_files() -> dict[str, RemoteFile]:
    """S-A axis vertex maps on fsLR-32k: keys ``"L"`` and ``"R"``."""
    return {
        hemi: get_file(f"sa_axis/SensorimotorAssociation_Axis_{hemi}H.fslr32k.func.gii")
        for hemi in ("L", "R")
    }


def sa_rank_file() -> RemoteFile:
    """S-A axis rank of the Schaefer-400 (7Networks) parcels."""
    return get_file("sa_axis/SArank_schaefer400_7Networks.csv")


def schaefer_mapper_file() -> RemoteFile:
    """Schaefer-400 17Networks -> 7Networks parcel order map (0-based indices)."""
    return get_file("sa_axis/Schaefer_400-17_mappedto_400-7.csv")


def ito_files() -> dict[str, RemoteFile]:
    """Ito 2020 inputs: keys discovery, replication (tau tables), dlabel, networks."""
    folder = "int_hcp_ito2020"
    return {
        "discovery": get_file(f"{folder}/Murray_taus_regions_autocorrelation_rest100.txt"),
        "replication": get_file(f"{folder}/Murray_taus_regions_autocorrelation_rest100_replication.txt"),
        "dlabel": get_file(f"{folder}/Q1-Q6_RelatedParcellation210.LR.CorticalAreas_dil_Colors.32k_fs_RL.dlabel.nii"),
        "networks": get_file(f"{folder}/network_partition.txt"),
    }


def meg_timescale_file() -> RemoteFile:
    """HCP MEG timescales of the Schaefer-400 (7Networks) parcels, ms."""
    return get_file("meg_timescale/parc_timescales.npy")


def int_hbn_file(n_parcels: int) -> RemoteFile:
    """Reference build of the HBN intrinsic-timescale table of Schaefer-``n_parcels``."""
    return get_file(f"int_hbn/INT_HBN_rest_acfsum_schaefer{n_parcels}_7Networks.csv")
