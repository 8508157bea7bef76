"""Parameter search in rounds of batched proposals (optuna), resumable in a result store.

A search minimises (or maximises) a score over a box of named parameters. Each
round, the sampler proposes ``n_proposals`` parameter sets; they are evaluated
together (one batched simulation, or split into ``chunks`` groups run by
:func:`conn2rnn.experiments.runners.run_groups` on the local, Dask or serial
runner) and every score is told to the sampler before the next round.

Why optuna: its CMA-ES sampler (and TPE) handles ~40 continuous parameters with
batched ask/tell, it is a light pure-Python dependency, and its JournalStorage
is an append-only file, so a killed search resumes from what was recorded.
Install with ``pip install 'conn2rnn[search]'``.

Resuming: everything lives in ``outdir``: ``study.journal`` (optuna's journal,
the proposals and scores) and ``store/`` (a :class:`~conn2rnn.experiments.store.ResultStore`
with one group per evaluated chunk). Rerunning the same call continues after the
last completed round; proposals of an interrupted round are taken from the
journal and only their unfinished chunks are evaluated again. Same ``seed``,
same evaluator, uninterrupted -> identical proposals and scores.

An evaluator is a top-level function (importable, so worker processes can run it)::

    evaluator(params: list[dict[str, float]], context: dict, seed: int) -> list[float]

returning one score per parameter set; ``nan`` marks a failed set (e.g. a
diverged simulation), recorded as a failed trial and never averaged in.
:func:`reservoir_objective` is the evaluator for connectome-reservoir
hyperparameters (spectral radius, leak, input scaling, ridge penalty).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..graph import BrainGraph
from ..models.reservoir import ConnectomeReservoir
from ..tasks import get_task
from .readout import masked_samples, split_trials

__all__ = ["SAMPLERS", "SearchParameter", "SearchResult", "evaluate_group", "reservoir_objective",
           "run_search"]

SAMPLERS = ("cmaes", "tpe", "random")
_STUDY = "search"


@dataclass(frozen=True)
class SearchParameter:
    """One searched parameter: ``low <= value <= high``, sampled on a log scale when ``log``."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"search parameter {self.name!r} needs finite low < high; got "
                             f"[{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"search parameter {self.name!r} is log-scaled and needs low > 0; got {self.low}")


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`run_search`.

    Attributes
    ----------
    trials : DataFrame
        One row per proposal: ``round``, ``trial``, ``value`` (NaN when failed),
        ``state`` and one column per parameter.
    best_params : dict
    best_value : float
    outdir : Path
    """

    trials: pd.DataFrame
    best_params: dict[str, float]
    best_value: float
    outdir: Path


def _optuna() -> Any:
    try:
        import optuna  # optional extra: conn2rnn[search]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("parameter search needs optuna: pip install 'conn2rnn[search]'") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _check_space(space: Any) -> tuple[SearchParameter, ...]:
    if isinstance(space, Mapping):
        items = []
        for name, spec in space.items():
            if isinstance(spec, SearchParameter):
                items.append(spec)
                continue
            if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
                raise ValueError(f"space[{name!r}] must be (low, high) or (low, high, 'log'|'linear'); got {spec!r}")
            scale = spec[2] if len(spec) == 3 else "linear"
            if scale not in ("log", "linear"):
                raise ValueError(f"space[{name!r}] scale must be 'log' or 'linear'; got {scale!r}")
            items.append(SearchParameter(str(name), float(spec[0]), float(spec[1]), scale == "log"))
        space = items
    if not isinstance(space, (list, tuple)) or not space or \
            not all(isinstance(p, SearchParameter) for p in space):
        raise TypeError("space must be a non-empty dict of name -> (low, high[, 'log']) or a list of "
                        f"SearchParameter; got {type(space).__name__}")
    names = [p.name for p in space]
    if len(set(names)) != len(names):
        raise ValueError(f"space has duplicate parameter names: {names}")
    return tuple(space)


def _evaluator_path(evaluator: Callable | str) -> str:
    if isinstance(evaluator, str):
        path = evaluator
    elif callable(evaluator):
        path = f"{evaluator.__module__}:{evaluator.__qualname__}"
    else:
        raise TypeError(f"evaluator must be a top-level function or 'module:function'; got {evaluator!r}")
    _load(path)
    return path


def _load(path: str) -> Callable:
    module, _, name = path.partition(":")
    try:
        func = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise TypeError(f"evaluator {path!r} is not an importable top-level function ('module:function'); "
                        "define it at the top of a .py module") from exc
    return func


def evaluate_group(group: dict, *, workdir: Path) -> dict:
    """Runner executor: evaluate one chunk of proposals (see :func:`run_search`)."""
    func = _load(group["evaluator"])
    values = list(func([dict(p) for p in group["params"]], dict(group["context"]), int(group["seed"])))
    if len(values) != len(group["params"]):
        raise ValueError(f"evaluator returned {len(values)} scores for {len(group['params'])} parameter sets")
    rows = [{"run_id": rid, "metric": "objective",
             "value": None if v is None or not math.isfinite(float(v)) else float(v)}
            for rid, v in zip(group["run_ids"], values)]
    return {"rows": rows, "curves": None, "artifacts": {}}


def _sampler(optuna: Any, name: str, seed: int, n_proposals: int) -> Any:
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, popsize=n_proposals, warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=n_proposals)
    return optuna.samplers.RandomSampler(seed=seed)


def _distributions(optuna: Any, space: tuple[SearchParameter, ...]) -> dict[str, Any]:
    return {p.name: optuna.distributions.FloatDistribution(p.low, p.high, log=p.log) for p in space}


def run_search(space: Any, evaluator: Callable | str, *, outdir: str | Path, n_rounds: int,
               n_proposals: int, context: Mapping[str, Any] | None = None, sampler: str = "cmaes",
               seed: int = 0, direction: str = "minimize", runner: str = "serial",
               n_workers: int | None = None, chunks: int = 1, x0: Mapping[str, float] | None = None,
               progress: bool = True) -> SearchResult:
    """Search ``space`` in ``n_rounds`` rounds of ``n_proposals`` batched proposals.

    Parameters
    ----------
    space : dict or list of SearchParameter
        ``{name: (low, high)}`` (linear) or ``(low, high, 'log')``.
    evaluator : callable or str
        Top-level ``evaluator(params, context, seed) -> scores`` (see the module docstring).
    outdir : path
        Folder of the journal and the result store; reuse it to resume.
    n_rounds, n_proposals : int
        Total rounds (a resumed search runs only the missing ones) and proposals per round.
    context : dict, optional
        JSON-safe settings handed to the evaluator unchanged (task, condition, sizes).
    sampler : {'cmaes', 'tpe', 'random'}
    seed : int
        Seed of the sampler; round ``r`` is evaluated with seed ``seed * 1000 + r``.
    direction : {'minimize', 'maximize'}
    runner : {'serial', 'local', 'dask'}
        How the chunks of a round are executed (:func:`~conn2rnn.experiments.runners.run_groups`).
    n_workers : int, optional
    chunks : int
        Groups per round (1 = the whole round as one batch).
    x0 : dict, optional
        A known parameter set evaluated as the first proposal of the first round.
    progress : bool
        A tqdm bar over rounds.

    Returns
    -------
    SearchResult
    """
    import json

    from tqdm.auto import tqdm

    # fitting sits below experiments (conn2rnn.experiments imports fitting): the search borrows its runners
    from ..experiments.runners import run_groups
    from ..experiments.store import ResultStore

    optuna = _optuna()
    space = _check_space(space)
    path = _evaluator_path(evaluator)
    for name, value, low in (("n_rounds", n_rounds, 1), ("n_proposals", n_proposals, 1), ("chunks", chunks, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    if chunks > n_proposals:
        raise ValueError(f"chunks ({chunks}) cannot exceed n_proposals ({n_proposals})")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {list(SAMPLERS)}")
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize'; got {direction!r}")
    context = dict(context or {})
    if x0 is not None:
        x0 = {str(k): float(v) for k, v in x0.items()}
        bounds = {p.name: p for p in space}
        bad = sorted(k for k, v in x0.items() if k not in bounds or not bounds[k].low <= v <= bounds[k].high)
        missing = sorted(set(bounds) - set(x0))
        if bad or missing:
            raise ValueError(f"x0 must give every searched parameter a value inside its bounds; outside or "
                             f"unknown: {bad}, missing: {missing}")
    try:
        json.dumps(context)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"context must be JSON-serialisable: {exc}") from exc

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    config = {"space": [[p.name, p.low, p.high, p.log] for p in space], "evaluator": path,
              "context": context, "sampler": sampler, "seed": int(seed), "direction": direction,
              "n_proposals": int(n_proposals), "chunks": int(chunks), "x0": x0}
    cfg_path = outdir / "search.json"
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if old != config:
            diff = sorted(k for k in config if old.get(k) != config[k])
            raise ValueError(f"{outdir} holds a different search (differs in {diff}); use a new outdir")
    else:
        cfg_path.write_text(json.dumps(config, indent=1))
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(outdir / "study.journal")))
    study = optuna.create_study(study_name=_STUDY, storage=storage, direction=direction,
                                sampler=_sampler(optuna, sampler, int(seed), int(n_proposals)),
                                load_if_exists=True)
    store = ResultStore(outdir / "store")
    dists = _distributions(optuna, space)
    done_rounds = _completed_rounds(study, optuna)
    if x0 is not None and not study.get_trials(deepcopy=False):
        study.enqueue_trial(x0)
    with tqdm(total=n_rounds, initial=min(done_rounds, n_rounds), desc="search rounds", unit="round",
              disable=not progress, dynamic_ncols=True) as bar:
        for rnd in range(done_rounds, n_rounds):
            trials = [t for t in study.get_trials(deepcopy=False)
                      if t.user_attrs.get("round") == rnd and t.state == optuna.trial.TrialState.RUNNING]
            while len(trials) < n_proposals:
                trial = study.ask(dists)  # a Trial; like the FrozenTrials above it has .number, .params
                trial.set_user_attr("round", rnd)
                trials.append(trial)
            trials = sorted(trials, key=lambda t: t.number)[:n_proposals]
            groups = []
            for c, idx in enumerate(np.array_split(np.arange(len(trials)), chunks)):
                sel = [trials[i] for i in idx]
                groups.append({"group_id": f"round{rnd:04d}-chunk{c:03d}",
                               "run_ids": [f"trial{t.number}" for t in sel],
                               "params": [{p.name: float(t.params[p.name]) for p in space} for t in sel],
                               "context": context, "evaluator": path, "seed": int(seed) * 1000 + rnd})
            table = run_groups(groups, evaluate_group, store, runner=runner, n_workers=n_workers, progress=False)
            values = dict(zip(table["run_id"], table["value"]))
            for t in trials:
                v = values.get(f"trial{t.number}")
                if v is None or not np.isfinite(v):
                    study.tell(t.number, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(t.number, float(v))
            bar.update(1)
    return _result(study, optuna, space, outdir)


def _completed_rounds(study: Any, optuna: Any) -> int:
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    rounds: dict[int, bool] = {}
    for t in study.get_trials(deepcopy=False):
        r = t.user_attrs.get("round")
        if r is not None:
            rounds[r] = rounds.get(r, True) and t.state in finished
    n = 0
    while rounds.get(n, False):
        n += 1
    return n


def _result(study: Any, optuna: Any, space: tuple[SearchParameter, ...], outdir: Path) -> SearchResult:
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.RUNNING:
            continue
        rows.append({"round": t.user_attrs.get("round"), "trial": t.number,
                     "value": t.value if t.value is not None else np.nan, "state": t.state.name,
                     **{p.name: t.params.get(p.name, np.nan) for p in space}})
    table = pd.DataFrame(rows)
    ok = table[np.isfinite(table["value"])] if len(table) else table
    if len(ok) == 0:
        return SearchResult(table, {}, float("nan"), outdir)
    best = ok.loc[ok["value"].idxmin() if study.direction.name == "MINIMIZE" else ok["value"].idxmax()]
    return SearchResult(table, {p.name: float(best[p.name]) for p in space}, float(best["value"]), outdir)


def reservoir_objective(params: list[dict[str, float]], context: dict, seed: int) -> list[float]:
    """Validation score of connectome reservoirs, one per hyperparameter set (an evaluator).

    ``params`` keys (any subset): ``spectral_radius``, ``leak``, ``input_scaling``,
    ``ridge`` (the readout's penalty). ``context``: ``task`` (a registered task name,
    default ``'impulse_recall'``), ``task_kwargs``, ``connectome`` (an ``(N, N)``
    list, ``w[target, source]``) or ``grid`` (a synthetic :meth:`BrainGraph.from_grid`
    shape with a seeded random connectome), ``n_trials``, ``reservoir_seed``.
    Returns ``1 - R^2`` of a ridge readout on held-out trials (lower is better),
    NaN when the states are not finite.
    """
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    task = get_task(context.get("task", "impulse_recall"), **context.get("task_kwargs", {}))
    rseed = int(context.get("reservoir_seed", 0))
    if "connectome" in context:
        w = np.asarray(context["connectome"], dtype=np.float64)
        graph = BrainGraph.from_grid((w.shape[0], 1, 1)).with_connectome(w)
    else:
        graph = BrainGraph.from_grid(tuple(context.get("grid", (4, 4, 2))))
        rng = np.random.default_rng(rseed)
        n = graph.n_nodes
        w = rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.2)
        np.fill_diagonal(w, 0.0)
        graph = graph.with_connectome(np.abs(w))
    batch = task.batch(int(context.get("n_trials", 32)), seed=seed)
    train, test = split_trials(batch.inputs.shape[1], test_size=0.25, seed=seed)
    scores = []
    for p in params:
        unknown = sorted(set(p) - {"spectral_radius", "leak", "input_scaling", "ridge"})
        if unknown:
            raise ValueError(f"unknown reservoir hyperparameter(s) {unknown}; valid: spectral_radius, "
                             "leak, input_scaling, ridge")
        res = ConnectomeReservoir.from_graph(graph, n_inputs=task.n_inputs,
                                             spectral_radius=p.get("spectral_radius", 0.9),
                                             leak=p.get("leak", 0.3), input_scaling=p.get("input_scaling", 1.0),
                                             seed=rseed)
        states = np.asarray(res.run(batch.inputs, seed=seed), dtype=np.float64)
        if not np.all(np.isfinite(states)):
            scores.append(float("nan"))
            continue
        x, y, wt, _ = masked_samples(states, batch, trials=train)
        model = Ridge(alpha=float(p.get("ridge", 1e-6))).fit(x, y, sample_weight=wt)
        xt, yt, wtt, _ = masked_samples(states, batch, trials=test)
        scores.append(float(1.0 - r2_score(yt, model.predict(xt), sample_weight=wtt)))
    return scores
