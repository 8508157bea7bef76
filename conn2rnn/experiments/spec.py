"""Experiment specs: a sweep declared once, round-tripped to TOML, expanded into runs.

An :class:`ExperimentSpec` names the graph, the tasks, the constraint regimes
(trainable bioRNNs) and the reservoir variants (readout-only), the seeds, the
strength grids, the training budget and the analyses. :meth:`ExperimentSpec.groups`
expands it into run groups: every trainable run of one task and regime becomes a
member of one ensemble (K networks trained together, each with its own seed and
strength), and every reservoir variant of one task becomes one batched engine
call. Groups are plain dicts with a content-derived ``group_id``, so a result
store can tell which are done.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any, Mapping

from .._validation import check_choice
from ..regimes import REGIMES, Regime

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TASKS = ("gonogo", "dms", "perceptual_dm", "one_choice_inference", "impulse_recall")
RESERVOIR_VARIANTS = ("connectome", "rewired", "weight_shuffle", "random", "spatial_null")
ANALYSES = ("timescales", "topology")
ATLASES = ("schaefer100", "schaefer200", "schaefer400", "grid")


def _positive(value: Any, name: str, *, integer: bool = False, allow_zero: bool = False) -> Any:
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        kind = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {kind}; got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}; got {value!r}")
    return value


def _section(cls, data: Mapping[str, Any], name: str):
    if not isinstance(data, Mapping):
        raise TypeError(f"[{name}] must be a table; got {type(data).__name__}")
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in [{name}]; valid keys: {valid}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclasses.dataclass(frozen=True)
class GraphSpec:
    """Which BrainGraph to build (see :func:`conn2rnn.load_atlas`).

    ``atlas='grid'`` is the synthetic 5 x 5 x 4 grid of spatially embedded RNNs;
    ``connectome='none'`` builds no connectome (no reservoirs can then be run).
    """

    atlas: str = "schaefer100"
    connectome: str = "enigma_hcp"
    maps: tuple[str, ...] = ("int_hbn",)
    gradient: str = "fc_gradient1"

    def __post_init__(self) -> None:
        check_choice(self.atlas, "graph.atlas", ATLASES)
        check_choice(self.connectome, "graph.connectome", ("enigma_hcp", "none"))
        object.__setattr__(self, "maps", tuple(self.maps))


@dataclasses.dataclass(frozen=True)
class TrainingSpec:
    """Budget and optimiser of trainable runs."""

    n_steps: int = 400
    batch_size: int = 32
    lr: float = 3e-3
    eval_every: int = 20
    eval_batch_size: int = 128
    criterion: float = 0.9
    grad_clip: float = 1.0
    checkpoint_every: int = 100

    def __post_init__(self) -> None:
        for name in ("n_steps", "batch_size", "eval_every", "eval_batch_size", "checkpoint_every"):
            _positive(getattr(self, name), f"training.{name}", integer=True)
        _positive(self.lr, "training.lr")
        _positive(self.grad_clip, "training.grad_clip")
        if not 0 < self.criterion <= 1:
            raise ValueError(f"training.criterion must lie in (0, 1]; got {self.criterion}")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Hyperparameters shared by the bioRNNs and reservoirs of a sweep."""

    dt: float = 50.0
    tau: float = 100.0
    tau_range: tuple[float, float] | None = None
    activation: str = "relu"
    init: str = "normal"
    noise: float = 0.05
    spectral_radius: float = 0.9
    leak: float = 0.3
    input_scaling: float = 1.0
    reservoir_train_trials: int = 512
    reservoir_test_trials: int = 256

    def __post_init__(self) -> None:
        _positive(self.dt, "model.dt")
        _positive(self.tau, "model.tau")
        _positive(self.noise, "model.noise", allow_zero=True)
        _positive(self.spectral_radius, "model.spectral_radius")
        _positive(self.input_scaling, "model.input_scaling")
        if not 0 < self.leak <= 1:
            raise ValueError(f"model.leak must lie in (0, 1]; got {self.leak}")
        if self.tau_range is not None:
            lo, hi = self.tau_range
            if not 0 < lo <= hi:
                raise ValueError(f"model.tau_range must satisfy 0 < low <= high; got {self.tau_range}")


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """A sweep over tasks x regimes x seeds x strengths, trainable and readout-only.

    Parameters
    ----------
    name : str
        Label of the experiment (also the default output folder name).
    graph : GraphSpec
    tasks : tuple of str
        Task names (:data:`TASKS`).
    regimes : tuple of str
        Trainable regimes: registered names (:data:`conn2rnn.regimes.REGIMES`) or
        keys of ``custom_regimes``.
    custom_regimes : mapping of str to mapping
        Extra regimes: ``{"embedded_gradient": {"base": "embedded", "distance": "gradient"}}``.
    reservoirs : tuple of str
        Readout-only variants (:data:`RESERVOIR_VARIANTS`): the connectome itself and nulls.
    n_seeds : int
        Networks per regime and strength (seeds ``seed_offset .. seed_offset + n_seeds - 1``).
    seed_offset : int
    strengths : mapping of str to tuple of float
        Strength grid per regime; a regime without one uses its own strength.
    max_ensemble : int
        Largest number of networks trained together in one group.
    training : TrainingSpec
    model : ModelSpec
    analyses : tuple of str
        Post-training analyses (:data:`ANALYSES`).
    """

    name: str = "experiment"
    graph: GraphSpec = GraphSpec()
    tasks: tuple[str, ...] = ("gonogo", "dms")
    regimes: tuple[str, ...] = ("vanilla", "masked", "embedded", "bio")
    custom_regimes: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    reservoirs: tuple[str, ...] = ("connectome",)
    n_seeds: int = 3
    seed_offset: int = 0
    strengths: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)
    max_ensemble: int = 100
    training: TrainingSpec = TrainingSpec()
    model: ModelSpec = ModelSpec()
    analyses: tuple[str, ...] = ("timescales", "topology")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty string; got {self.name!r}")
        for field in ("tasks", "regimes", "reservoirs", "analyses"):
            value = getattr(self, field)
            if isinstance(value, str):
                raise TypeError(f"{field} must be a list of names, not one string; got {value!r}")
            object.__setattr__(self, field, tuple(value))
        for t in self.tasks:
            check_choice(t, "task", TASKS)
        for v in self.reservoirs:
            check_choice(v, "reservoir variant", RESERVOIR_VARIANTS)
        for a in self.analyses:
            check_choice(a, "analysis", ANALYSES)
        if not self.tasks:
            raise ValueError("tasks is empty; name at least one of " + ", ".join(TASKS))
        if not self.regimes and not self.reservoirs:
            raise ValueError("nothing to run: regimes and reservoirs are both empty")
        _positive(self.n_seeds, "n_seeds", integer=True)
        _positive(self.seed_offset, "seed_offset", integer=True, allow_zero=True)
        _positive(self.max_ensemble, "max_ensemble", integer=True)
        custom = {str(k): dict(v) for k, v in dict(self.custom_regimes).items()}
        object.__setattr__(self, "custom_regimes", custom)
        for r in self.regimes:
            self.regime(r)  # validates names and custom definitions
        grid = {}
        for r, values in dict(self.strengths).items():
            if r not in self.regimes:
                raise ValueError(f"strengths given for {r!r}, which is not in regimes {list(self.regimes)}")
            values = tuple(float(v) for v in values)
            if not values or any(not math.isfinite(v) or v < 0 for v in values):
                raise ValueError(f"strengths[{r!r}] must be non-empty, finite and >= 0; got {values}")
            if values != (0.0,) * len(values) and self.regime(r).spatial_cost is None:
                raise ValueError(f"strengths[{r!r}]: regime {r!r} has no spatial cost to scale")
            grid[r] = values
        object.__setattr__(self, "strengths", grid)

    # -------------------------------------------------------------- regimes
    def regime(self, name: str) -> Regime:
        """The :class:`~conn2rnn.regimes.Regime` called ``name`` in this spec."""
        if name in self.custom_regimes:
            definition = dict(self.custom_regimes[name])
            base = definition.pop("base", None)
            if base is not None:
                check_choice(base, f"custom_regimes[{name!r}].base", tuple(REGIMES))
                return REGIMES[base].replace(name=name, **definition)
            return Regime.from_dict({"name": name, **definition})
        if name not in REGIMES:
            valid = list(REGIMES) + list(self.custom_regimes)
            raise ValueError(f"unknown regime {name!r}; valid regimes: {valid} "
                             "(or define it under [custom_regimes])")
        return REGIMES[name]

    # ---------------------------------------------------------------- serialise
    def to_dict(self) -> dict[str, Any]:
        """A plain, TOML-ready dict; inverse of :meth:`from_dict`."""
        def clean(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {k: clean(v) for k, v in value.items() if v is not None}
            if isinstance(value, tuple | list):
                return [clean(v) for v in value]
            return value

        return clean(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExperimentSpec":
        """Build and validate a spec from a mapping (unknown keys are errors)."""
        data = dict(data)
        sections = {"graph": GraphSpec, "training": TrainingSpec, "model": ModelSpec}
        for key, sub in sections.items():
            if key in data:
                data[key] = _section(sub, data[key], key)
        return _section(cls, data, "experiment")

    def to_toml(self) -> str:
        """TOML text of the spec."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> "ExperimentSpec":
        """Parse TOML text (see :meth:`to_toml`)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"the spec is not valid TOML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "ExperimentSpec":
        """Read a spec from a TOML file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"spec file {path} does not exist")
        return cls.from_toml(path.read_text())

    # ------------------------------------------------------------------ expand
    def seeds(self) -> tuple[int, ...]:
        """The seeds of every regime x strength cell."""
        return tuple(range(self.seed_offset, self.seed_offset + self.n_seeds))

    def groups(self) -> list[dict[str, Any]]:
        """Expand into run groups (JSON-serialisable dicts, stable ``group_id``).

        Returns
        -------
        list of dict
            Each with ``group_id``, ``run_ids``, ``kind`` ('trainable' or
            'reservoir'), ``task``, ``regime`` (a dict) or ``variant``, and the
            per-member ``seeds`` (and ``strengths`` for trainable groups).
        """
        out = []
        shared = {"graph": dataclasses.asdict(self.graph), "model": dataclasses.asdict(self.model),
                  "training": dataclasses.asdict(self.training), "analyses": list(self.analyses)}
        for task in self.tasks:
            for name in self.regimes:
                regime = self.regime(name)
                strengths = self.strengths.get(name, (regime.strength,))
                members = [(s, seed) for s in strengths for seed in self.seeds()]
                for start in range(0, len(members), self.max_ensemble):
                    chunk = members[start:start + self.max_ensemble]
                    run_ids = [f"{task}/{name}/lambda={s:g}/seed={seed}" for s, seed in chunk]
                    out.append(self._group({
                        "kind": "trainable", "task": task, "regime": regime.to_dict(),
                        "strengths": [s for s, _ in chunk], "seeds": [seed for _, seed in chunk],
                        "run_ids": run_ids, **shared,
                    }))
            for variant in self.reservoirs:
                run_ids = [f"{task}/reservoir-{variant}/seed={seed}" for seed in self.seeds()]
                out.append(self._group({
                    "kind": "reservoir", "task": task, "variant": variant,
                    "seeds": list(self.seeds()), "run_ids": run_ids, **shared,
                }))
        return out

    @staticmethod
    def _group(content: dict[str, Any]) -> dict[str, Any]:
        digest = hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
        return {"group_id": digest, **content}
