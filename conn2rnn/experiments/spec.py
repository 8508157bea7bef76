"""Experiment specs: typed sections, validated as a whole, round-tripped to TOML.

An :class:`ExperimentSpec` holds the whole science of a sweep: which graph
(:class:`GraphSpec`), which tasks, which constraint regimes (trainable bioRNNs)
and connectome variants (readout-only reservoirs), seeds and strength grids, the
model hyperparameters (:class:`ModelSpec`), the training budget
(:class:`TrainingSpec`, whose defaults are those of
:func:`conn2rnn.fitting.train`) and the analyses with their settings
(:class:`AnalysisSpec`: which empirical maps, which estimator, which nulls).

Checks happen in two stages, both before anything runs:

* constructing a spec checks every field's type and range and reports every
  problem at once with its TOML path (:class:`SpecError`);
* :meth:`ExperimentSpec.validate` checks what needs the registries and data:
  the graph builds with its maps and connectome, every task and regime resolves
  on it, reservoirs have a connectome, the empirical maps exist.

Every set of names comes from its registry: tasks (:data:`conn2rnn.tasks.TASKS`,
plus neurogym ids), atlases and maps (:data:`conn2rnn.datasets.ATLASES`,
:data:`~conn2rnn.datasets.MAPS`), regimes (:data:`conn2rnn.regimes.REGIMES`),
connectome variants (:data:`conn2rnn.nulls.CONNECTOME_NULLS`) and analyses
(:data:`conn2rnn.experiments.analyses.ANALYSES`).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

from .. import _toml
from ..analysis.resting import bold_sample_count
from ..nulls import CONNECTOME_NULLS
from ..regimes import REGIMES, Regime, regime_tau, resolve_regime
from ..tasks import TASKS, get_task, is_task_name
from ._checks import Problems, SpecError
from .analyses import ANALYSES
from .groups import expand
from .sections import (  # noqa: F401  (re-exported: the sections were defined here before)
    _SECTIONS,
    _TRAIN_DEFAULTS,
    HEMISPHERES,
    INT_CONTROLS,
    INT_NO_CROSSING,
    INT_NULLS,
    INT_ROUTES,
    AnalysisSpec,
    GraphSpec,
    ModelSpec,
    TrainingSpec,
    _build_graph,
    _build_section,
    _Section,
)
from .store import check_folder_name

__all__ = ["AnalysisSpec", "ExperimentSpec", "GraphSpec", "ModelSpec", "SpecError", "TrainingSpec"]

#: Upper bounds of what one spec may expand to (a typo such as n_seeds = 1000000000 is refused).
MAX_SEEDS = 100_000
MAX_RUNS = 1_000_000
MAX_SEED = 2**63 - 1


def _analyses() -> tuple[str, ...]:
    return ANALYSES.names()


@dataclasses.dataclass(frozen=True)
class ExperimentSpec(_Section):
    """A sweep over tasks x regimes x seeds x strengths, trainable and readout-only.

    Parameters
    ----------
    name : str
        Label of the experiment and the default output folder (a plain folder name).
    graph : GraphSpec
    tasks : list of str
        Registered task names (:data:`conn2rnn.tasks.TASKS`) or neurogym ids.
    task_options : mapping of str to mapping
        Constructor options per task, e.g. ``{"dms": {"distractor_prob": 0.5,
        "loss_on": "trial"}}`` (``dt`` comes from ``model.dt``).
    regimes : list of str
        Trainable regimes: registered names or keys of ``custom_regimes``.
    custom_regimes : mapping of str to mapping
        Extra regimes: ``{"embedded_gradient": {"base": "embedded", "distance": "gradient"}}``.
    reservoirs : list of str
        Readout-only connectome variants (:data:`conn2rnn.nulls.CONNECTOME_NULLS`).
    reservoir_regime : str
        Regime whose input and output networks the reservoirs use.
    n_seeds, seed_offset : int
        Seeds ``seed_offset .. seed_offset + n_seeds - 1`` for every regime and strength.
    strengths : mapping of str to list of float
        Strength grid per regime; a regime without one uses its own strength.
    max_ensemble : int
        Largest number of networks trained together in one group.
    training, model, analysis : TrainingSpec, ModelSpec, AnalysisSpec
    analyses : list of str
        Analyses to run (:data:`conn2rnn.experiments.analyses.ANALYSES`).
    """

    name: str = "experiment"
    graph: GraphSpec = GraphSpec()
    tasks: tuple[str, ...] = ("gonogo", "dms")
    task_options: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    regimes: tuple[str, ...] = ("vanilla", "masked", "embedded", "bio")
    custom_regimes: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    reservoirs: tuple[str, ...] = ("connectome",)
    reservoir_regime: str = "masked"
    n_seeds: int = 3
    seed_offset: int = 0
    strengths: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)
    max_ensemble: int = 100
    training: TrainingSpec = TrainingSpec()
    model: ModelSpec = ModelSpec()
    analysis: AnalysisSpec = AnalysisSpec()
    analyses: tuple[str, ...] = ("timescales", "topology")

    def _check(self, p: Problems) -> None:
        try:
            check_folder_name(self.name)
        except (TypeError, ValueError) as exc:
            p.add("name", str(exc))
        for section, cls in _SECTIONS.items():
            if not isinstance(getattr(self, section), cls):
                p.add(section, f"must be a {cls.__name__} (or a [{section}] table in TOML); "
                               f"got {type(getattr(self, section)).__name__}")
        if p.names("tasks", self.tasks):
            if not self.tasks:
                p.add("tasks", "is empty; name at least one task")
            for t in self.tasks:
                if not is_task_name(t):
                    p.add("tasks", f"unknown task {t!r}; registered tasks: {', '.join(TASKS)}, or a "
                                   "neurogym id such as 'GoNogo-v0'")
        if not isinstance(self.task_options, Mapping) or not all(
                isinstance(v, Mapping) for v in self.task_options.values()):
            p.add("task_options", "must be a table of tables: [task_options.TASK] with the task's options")
        else:
            object.__setattr__(self, "task_options", {str(k): dict(v) for k, v in self.task_options.items()})
            for name, options in self.task_options.items():
                if isinstance(self.tasks, tuple) and name not in self.tasks:
                    p.add(f"task_options.{name}", f"{name!r} is not in tasks {list(self.tasks)}")
                if "dt" in options:
                    p.add(f"task_options.{name}.dt", "set the step with model.dt, which all tasks share")
        p.names("reservoirs", self.reservoirs, CONNECTOME_NULLS.names())
        p.names("analyses", self.analyses, _analyses())
        seeds_ok = p.integer("n_seeds", self.n_seeds, low=1)
        if seeds_ok and self.n_seeds > MAX_SEEDS:
            p.add("n_seeds", f"must be <= {MAX_SEEDS:,} (networks per regime and strength); got {self.n_seeds:,}")
            seeds_ok = False
        if p.integer("seed_offset", self.seed_offset, low=0) and seeds_ok \
                and self.seed_offset + self.n_seeds - 1 > MAX_SEED:
            p.add("seed_offset", f"the last seed, seed_offset + n_seeds - 1 = {self.seed_offset + self.n_seeds - 1}, "
                                 f"must be <= 2**63 - 1 (seeds are 64-bit integers); lower seed_offset")
        p.integer("max_ensemble", self.max_ensemble, low=1)
        if not isinstance(self.custom_regimes, Mapping) or not all(
                isinstance(v, Mapping) for v in self.custom_regimes.values()):
            p.add("custom_regimes", "must be a table of tables: [custom_regimes.NAME] with regime keys")
        else:
            object.__setattr__(self, "custom_regimes", {str(k): dict(v) for k, v in self.custom_regimes.items()})
        if p.names("regimes", self.regimes) and isinstance(self.custom_regimes, dict):
            if not self.regimes and not self.reservoirs:
                p.add("regimes", "nothing to run: regimes and reservoirs are both empty")
            for name in dict.fromkeys(self.regimes + (self.reservoir_regime,)):
                try:
                    self.regime(name)
                except (TypeError, ValueError) as exc:
                    p.add("regimes" if name in self.regimes else "reservoir_regime", str(exc))
        self._check_strengths(p)
        if not p.items:
            self._check_size(p)

    def _check_size(self, p: Problems) -> None:
        """Bound the networks a spec expands to, before anything is expanded."""
        cells = sum(len(self.strengths.get(r, (0,))) for r in self.regimes) + len(self.reservoirs)
        n_runs = len(self.tasks) * cells * self.n_seeds
        if n_runs > MAX_RUNS:
            p.add("n_seeds", f"the spec expands to {n_runs:,} networks ({len(self.tasks)} task(s) x {cells} "
                             f"regime/strength/reservoir cell(s) x {self.n_seeds:,} seeds), more than the "
                             f"{MAX_RUNS:,} one spec may hold; lower n_seeds or split the sweep into several specs")

    def _check_strengths(self, p: Problems) -> None:
        if not isinstance(self.strengths, Mapping):
            p.add("strengths", f"must be a table of regime = [strengths]; got {self.strengths!r}")
            return
        grid = {}
        for r, values in self.strengths.items():
            field = f"strengths.{r}"
            if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
                p.add(field, f"must be a list of numbers; got {values!r}")
                continue
            if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and math.isfinite(v) and v >= 0 for v in values):
                p.add(field, f"must be a non-empty list of finite numbers >= 0; got {list(values)}")
                continue
            if isinstance(self.regimes, tuple) and r not in self.regimes:
                p.add(field, f"{r!r} is not in regimes {list(self.regimes)}")
                continue
            try:
                regime = self.regime(r)
            except (TypeError, ValueError):
                continue  # reported under regimes
            if any(v != 0 for v in values) and regime.spatial_cost is None:
                p.add(field, f"regime {r!r} has no spatial cost to scale")
            grid[r] = tuple(float(v) for v in values)
        object.__setattr__(self, "strengths", grid)

    # -------------------------------------------------------------- regimes
    def regime(self, name: str) -> Regime:
        """The :class:`~conn2rnn.regimes.Regime` called ``name`` in this spec."""
        if name in self.custom_regimes:
            definition = dict(self.custom_regimes[name])
            base = definition.pop("base", None)
            if base is not None:
                return REGIMES.get(base, argument=f"custom_regimes.{name}.base").replace(name=name, **definition)
            return Regime.from_dict({"name": name, **definition})
        if name not in REGIMES:
            raise ValueError(f"unknown regime {name!r}; valid regimes: "
                             f"{', '.join(list(REGIMES) + list(self.custom_regimes))} "
                             "(or define it under [custom_regimes])")
        return REGIMES[name]

    def seeds(self) -> tuple[int, ...]:
        """The seeds of every regime x strength cell."""
        return tuple(range(self.seed_offset, self.seed_offset + self.n_seeds))

    def groups(self) -> list:
        """The run groups of this spec (see :mod:`conn2rnn.experiments.groups`)."""
        return expand(self)

    def replace(self, **changes: Any) -> "ExperimentSpec":
        """A copy with some fields changed (re-validated)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ validation
    def validate(self) -> "ExperimentSpec":
        """Check everything that needs the registries and data, before anything runs.

        Builds the graph (its maps and connectome must be available), every task,
        every regime on the graph; checks that reservoirs have a connectome and
        that the empirical maps of the analyses are on the graph. Every problem
        is reported at once.

        Returns
        -------
        ExperimentSpec
            ``self``, so that ``spec.validate()`` chains.

        Raises
        ------
        SpecError
        """

        p = Problems()
        try:
            graph = self.graph.build()
        except Exception as exc:  # data missing, bad map for this atlas, ...
            p.add("graph", f"cannot be built: {exc}")
            p.raise_if_any()
        for name in self.tasks:
            try:
                get_task(name, dt=self.model.dt, **self.task_options.get(name, {}))
            except Exception as exc:
                p.add("tasks", f"{name!r}: {exc}")
        for name in dict.fromkeys(self.regimes + ((self.reservoir_regime,) if self.reservoirs else ())):
            try:
                resolve_regime(self.regime(name), graph)
            except Exception as exc:
                field = "regimes" if name in self.regimes else "reservoir_regime"
                p.add(field, f"{name!r} does not apply to the {graph.atlas} graph: {exc}")
        if "strength" in self.training.schedules:
            costless = [r for r in self.regimes if self.regime(r).spatial_cost is None]
            if costless:
                p.add("training.schedules.strength", f"regimes {costless} have no spatial cost to schedule; "
                                                     "run them in a spec of their own")
        if self.reservoirs and graph.connectome is None:
            p.add("reservoirs", f"{list(self.reservoirs)} need a structural connectome; set "
                                "graph.connectome = 'enigma_hcp' or remove the reservoirs")
        for name in self.regimes:
            try:
                regime_tau(self.regime(name), graph, self.seeds()[:1])
            except Exception as exc:
                p.add("regimes", f"{name!r}: {exc}")
        gain = self.model.node_gain
        if isinstance(gain, str) and self.regimes:
            if gain == "gradient" and graph.gradient is None:
                p.add("model.node_gain", "'gradient' needs a graph with a gradient; name a map of graph.maps")
            elif gain != "gradient" and gain not in graph.maps:
                p.add("model.node_gain", f"{gain!r} is not a map of the graph ({sorted(graph.maps)}); add it to "
                                         "graph.maps, or use 'gradient' or a number")
        if self.model.tau_range is not None and self.regimes:
            if self.model.tau_map != "gradient" and self.model.tau_map not in graph.maps:
                p.add("model.tau_map", f"{self.model.tau_map!r} is not a map of the graph "
                                       f"({sorted(graph.maps)}); add it to graph.maps")
            elif self.model.tau_map == "gradient" and graph.gradient is None:
                p.add("model.tau_map", "'gradient' needs a graph with a gradient")
        if "timescales" in self.analyses:
            for m in self.analysis.empirical_maps:
                if m not in graph.maps:
                    p.add("analysis.empirical_maps", f"{m!r} is not a map of the graph ({sorted(graph.maps)}); "
                                                     "add it to graph.maps or remove it")
            a = self.analysis
            if a.int_route == "bold":
                n_bold = bold_sample_count(a.n_steps, self.model.dt, a.tr_s)
                if n_bold < a.min_bold_samples:
                    p.add("analysis.n_steps", f"{a.n_steps} steps of {self.model.dt:g} ms give {n_bold} BOLD samples "
                                              f"at TR {a.tr_s:g} s, fewer than analysis.min_bold_samples = "
                                              f"{a.min_bold_samples}; record longer or use int_route = 'raw'")
            if self.analysis.nulls == "spin" and self.analysis.empirical_maps and graph.sphere_coords is None:
                p.add("analysis.nulls", f"'spin' needs sphere coordinates, which the {graph.atlas} graph lacks; "
                                        "use nulls = 'none'")
        p.raise_if_any()
        return self

    # ---------------------------------------------------------------- serialise
    def to_dict(self) -> dict[str, Any]:
        """A plain, TOML-ready dict; inverse of :meth:`from_dict`."""
        def clean(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {k: clean(v) for k, v in value.items() if v is not None}
            if isinstance(value, (tuple, list)):
                return [clean(v) for v in value]
            return value

        return clean(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], problems: Problems | None = None) -> "ExperimentSpec":
        """Build and validate a spec from a mapping; every problem is reported at once."""
        p = Problems()
        if not isinstance(data, Mapping):
            raise SpecError([f"the spec must be a table; got {type(data).__name__}"])
        data = dict(data)
        for key, section in _SECTIONS.items():
            if key in data:
                data[key] = section.from_dict(data[key], p)
        if p.items:  # report the sections' problems with the top level's
            _build_section(cls, {k: v for k, v in data.items() if k not in _SECTIONS}, p)
            p.raise_if_any()
        return _build_section(cls, data, problems)

    def to_toml(self) -> str:
        """TOML text of the spec."""
        return _toml.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> "ExperimentSpec":
        """Parse TOML text (see :meth:`to_toml`)."""
        return cls.from_dict(_toml.loads(text, what="the spec"))

    @classmethod
    def load(cls, path: str | Path) -> "ExperimentSpec":
        """Read a spec from a TOML file, or a shipped spec by name (see :func:`shipped_specs`)."""
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a spec file path or a shipped spec's name (str); got {type(path).__name__}")
        path = Path(path)
        if path.is_dir():
            hint = (f"; to resume that experiment folder, pass its spec: {path / 'spec.toml'} --out {path}"
                    if (path / "spec.toml").is_file() else "")
            raise IsADirectoryError(f"{path} is a folder; expected a spec .toml file or a shipped spec's name "
                                    f"({', '.join(shipped_specs())}){hint}")
        if not path.is_file():
            shipped = shipped_specs()
            if str(path) in shipped:
                path = shipped[str(path)]
            else:
                raise FileNotFoundError(f"spec file {path} does not exist (shipped specs: "
                                        f"{', '.join(shipped)})")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f"spec file {path} is not a text file; expected a TOML spec "
                             "(conn2rnn spec NAME prints one to start from)") from None
        try:
            return cls.from_toml(text)
        except SpecError as exc:
            raise SpecError([f"{path}: {p}" for p in exc.problems]) from None
        except ValueError as exc:  # not TOML
            raise ValueError(f"{path}: {exc}") from None


def shipped_specs() -> dict[str, Path]:
    """The specs that ship with the package, by name (``conn2rnn run NAME`` runs one)."""
    from importlib import resources

    folder = Path(str(resources.files("conn2rnn") / "specs"))
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}
