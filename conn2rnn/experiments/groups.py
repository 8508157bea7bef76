"""Run groups: the units of work a spec expands into, typed.

A :class:`TrainableGroup` is one BioRNN ensemble (every seed and strength of one
task and regime, up to ``max_ensemble`` networks, trained together); a
:class:`ReservoirGroup` is one batched engine call over the seeds of one task
and connectome variant. Each carries the spec sections it needs and a
content-derived ``group_id``, so a result store can tell which are done.

The runners (:mod:`conn2rnn.experiments.runners`) are generic and move plain
JSON-able dicts between processes and machines: :meth:`RunGroup.to_dict` and
:func:`group_from_dict` convert at that boundary, and nothing else reads a
group by string keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from ..regimes import Regime
from .sections import AnalysisSpec, GraphSpec, ModelSpec, TrainingSpec

if TYPE_CHECKING:  # annotation only: the spec module imports this one to expand itself
    from .spec import ExperimentSpec

__all__ = ["ReservoirGroup", "RunGroup", "TrainableGroup", "expand", "group_from_dict"]


def _identity_fields(section: Any) -> dict[str, Any]:
    """A spec section's fields that make a group's identity.

    Every field counts, except an option declared with ``metadata={"identity":
    "if_set"}`` (options added after stores were written) while it holds its
    default: adding such an option keeps the identity of every group that does not
    use it, and the stores that hold them resumable.
    """
    out = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if f.metadata.get("identity") == "if_set" and value == f.default:
            continue
        out[f.name] = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunGroup:
    """What every group has.

    Attributes
    ----------
    task : str
    task_options : dict
        Constructor options of the task (``dt`` aside).
    seeds : tuple of int
        One per member network.
    run_ids : tuple of str
        One per member: ``"<task>/<regime or reservoir-variant>/.../seed=<s>"``.
    regime : Regime
        Trainable: the constraints; reservoirs: the regime whose I/O networks they use.
    graph, model, training, analysis : the spec's sections
    analyses : tuple of str
    """

    kind: ClassVar[str] = ""
    task: str
    task_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...]
    run_ids: tuple[str, ...]
    regime: Regime
    graph: GraphSpec
    model: ModelSpec
    training: TrainingSpec
    analysis: AnalysisSpec
    analyses: tuple[str, ...]

    @property
    def group_id(self) -> str:
        """12 hex digits of the sha1 of the group's content."""
        content = json.dumps(self._content(), sort_keys=True)
        return hashlib.sha1(content.encode()).hexdigest()[:12]

    def _content(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Regime):
                value = value.to_dict()
            elif dataclasses.is_dataclass(value):
                value = _identity_fields(value)
            out[f.name] = value
        return json.loads(json.dumps(out))  # tuples -> lists

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict with ``group_id`` and ``run_ids`` (what the runners move)."""
        return {"group_id": self.group_id, **self._content()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainableGroup(RunGroup):
    """One BioRNN ensemble; ``strengths[k]`` is network k's spatial-cost strength."""

    kind: ClassVar[str] = "trainable"
    strengths: tuple[float, ...]

    def labels(self) -> dict[str, dict[str, Any]]:
        """Per-run label columns of the results table (task, regime, family, strength, seed)."""
        return {run_id: {"task": self.task, "regime": self.regime.name, "family": "trainable",
                         "strength": self.strengths[k], "seed": self.seeds[k]}
                for k, run_id in enumerate(self.run_ids)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReservoirGroup(RunGroup):
    """Readout-only reservoirs on one connectome variant (:data:`~conn2rnn.nulls.CONNECTOME_NULLS`)."""

    kind: ClassVar[str] = "reservoir"
    variant: str

    def labels(self) -> dict[str, dict[str, Any]]:
        """Per-run label columns of the results table (task, regime, family, strength, seed)."""
        return {run_id: {"task": self.task, "regime": f"reservoir-{self.variant}", "family": "readout-only",
                         "strength": float("nan"), "seed": self.seeds[k]}
                for k, run_id in enumerate(self.run_ids)}


_KINDS = {cls.kind: cls for cls in (TrainableGroup, ReservoirGroup)}
_SECTIONS = {"graph": GraphSpec, "model": ModelSpec, "training": TrainingSpec, "analysis": AnalysisSpec}


def group_from_dict(data: Mapping[str, Any]) -> RunGroup:
    """Rebuild a typed group from :meth:`RunGroup.to_dict` (its ``group_id`` must match)."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"unknown group kind {kind!r}; expected one of {list(_KINDS)}")
    expected = data.pop("group_id", None)
    fields = {}
    for key, value in data.items():
        if key in _SECTIONS:
            value = _SECTIONS[key](**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        elif key == "regime":
            value = Regime.from_dict(value)
        elif isinstance(value, list):
            value = tuple(value)
        elif key == "task_options":
            value = dict(value)
        fields[key] = value
    group = _KINDS[kind](**fields)
    if expected is not None and group.group_id != expected:
        raise ValueError(f"group {expected} does not match its content (rebuilt id {group.group_id}); "
                         "the group dict was edited")
    return group


def expand(spec: ExperimentSpec) -> list[RunGroup]:
    """The run groups of a spec: ensembles per task x regime, reservoirs per task x variant."""
    out: list[RunGroup] = []
    for task in spec.tasks:
        shared = {"graph": spec.graph, "model": spec.model, "training": spec.training, "analysis": spec.analysis,
                  "analyses": spec.analyses, "task_options": dict(spec.task_options.get(task, {}))}
        for name in spec.regimes:
            regime = spec.regime(name)
            strengths = spec.strengths.get(name, (regime.strength,))
            members = [(s, seed) for s in strengths for seed in spec.seeds()]
            for start in range(0, len(members), spec.max_ensemble):
                chunk = members[start:start + spec.max_ensemble]
                out.append(TrainableGroup(
                    task=task, regime=regime, strengths=tuple(s for s, _ in chunk),
                    seeds=tuple(seed for _, seed in chunk),
                    run_ids=tuple(f"{task}/{name}/lambda={s:g}/seed={seed}" for s, seed in chunk), **shared))
        for variant in spec.reservoirs:
            out.append(ReservoirGroup(
                task=task, variant=variant, regime=spec.regime(spec.reservoir_regime), seeds=spec.seeds(),
                run_ids=tuple(f"{task}/reservoir-{variant}/seed={seed}" for seed in spec.seeds()), **shared))
    return out
