"""The working-memory reproduction: cue conditions, searched networks, final scores.

One group per (condition, seed): a parameter search (:func:`conn2rnn.fitting.search.run_search`)
of the network for that cue condition, then the best parameter set is simulated on
fresh trials and scored (:func:`~conn2rnn.biophys.task.memory_error`) and analysed
(attractor separation, dimensionality, persistent activity of the cued cluster).
Groups are recorded in a :class:`~conn2rnn.experiments.store.ResultStore`, so a
killed run resumes (completed groups are skipped, a running search continues
after its last completed round).

Conditions (cue synapse onto the even-indexed E cells):

- ``AMPA_soma``, ``NMDA_soma``, ``AMPA_dend``, ``NMDA_dend``;
- ``NMDA_dend_ampa_kinetics``: magnesium-blocked dendritic cue with AMPA timing;
- ``AMPA_dend_nmda_kinetics``: unblocked dendritic cue with NMDA timing;
- ``AMPA_dend_low_ra``: dendritic AMPA cue with axial resistivity 10 Ohm cm.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import _toml
from .analysis import attractor_separation, cued_cluster_activity, dimensionality
from .model import BiophysicalReservoir, filter_spikes
from .network import GROUPS, default_parameters
from .task import CuedMemory, memory_error

__all__ = [
    "CONDITIONS",
    "PAPER_ERRORS",
    "brc_group",
    "brc_objective",
    "check_run",
    "load_spec",
    "spec_groups",
    "run_protocol",
    "search_space",
    "start_point",
]

CONDITIONS: dict[str, dict[str, Any]] = {
    "AMPA_soma": {"cue_synapse": "AMPA_soma"},
    "NMDA_soma": {"cue_synapse": "NMDA_soma"},
    "AMPA_dend": {"cue_synapse": "AMPA_dend"},
    "NMDA_dend": {"cue_synapse": "NMDA_dend"},
    "NMDA_dend_ampa_kinetics": {"cue_synapse": "NMDA_dend", "cue_kinetics": "AMPA"},
    "AMPA_dend_nmda_kinetics": {"cue_synapse": "AMPA_dend", "cue_kinetics": "NMDA"},
    "AMPA_dend_low_ra": {"cue_synapse": "AMPA_dend", "params": {"ra_ohm_cm": 10.0}},
}

_MAIN = ("AMPA_soma", "NMDA_soma", "AMPA_dend", "NMDA_dend")

#: Validation MSE after 10 rounds of 100 proposals (Tolley & Jones 2026), approximate.
PAPER_ERRORS = {"NMDA_soma": 0.9, "NMDA_dend": 0.95, "AMPA_soma": 1.3, "AMPA_dend": 4.5,
                "NMDA_dend_ampa_kinetics": 4.5, "AMPA_dend_nmda_kinetics": 1.9, "AMPA_dend_low_ra": 0.8}
#: The paper's verdicts: does the condition solve the task?
PAPER_SOLVES = {k: v < 2.0 for k, v in PAPER_ERRORS.items()}

_RUN_DEFAULTS = {"conditions": list(CONDITIONS), "seeds": [0, 1, 2], "n_rounds": 10, "n_proposals": 100,
                 "n_repeats": 2, "eval_repeats": 4, "dt": 0.025, "dtype": "float64", "sampler": "cmaes"}


def search_space() -> dict[str, tuple]:
    """The searched parameters (36): conductances (nS, log), probabilities, densities (mS/cm2, log)."""
    space: dict[str, tuple] = {}
    for group in GROUPS:
        space[f"g_{group}"] = (0.01, 20.0, "log")
        space[f"p_{group}"] = (0.05, 1.0)
    space.update({"g_cue_e": (0.1, 30.0, "log"), "g_cue_i": (0.05, 10.0, "log"),
                  "g_noise_e": (0.5, 10.0, "log"), "g_noise_i": (0.05, 3.0, "log")})
    for region in ("e_soma", "e_dend", "i"):
        space[f"leak_{region}"] = (0.01, 0.5, "log")
        for ch in ("km", "cal", "cat"):
            space[f"{ch}_{region}"] = (0.001, 1.0, "log")
    for region in ("e_dend", "i"):
        space[f"na_{region}"] = (5.0, 100.0, "log")
        space[f"k_{region}"] = (1.0, 20.0, "log")
    return space


def start_point() -> dict[str, float]:
    """The first proposal of every search: the default parameters, clipped into the search box."""
    base = default_parameters()
    return {name: float(np.clip(base[name], spec[0], spec[1])) for name, spec in search_space().items()}


def _model(params: list[dict], context: Mapping[str, Any]) -> BiophysicalReservoir:
    cond = context["condition"]
    if cond not in CONDITIONS:
        raise ValueError(f"unknown condition {cond!r}; choose one of {list(CONDITIONS)}")
    spec = CONDITIONS[cond]
    fixed = spec.get("params", {})
    dtype = {"float64": torch.float64, "float32": torch.float32}[context.get("dtype", "float64")]
    return BiophysicalReservoir([{**p, **fixed} for p in params], cue_synapse=spec["cue_synapse"],
                                cue_kinetics=spec.get("cue_kinetics"), dt=float(context.get("dt", 0.025)),
                                seed=int(context.get("network_seed", 0)), dtype=dtype,
                                device=context.get("device", "cpu"))


def brc_objective(params: list[dict[str, float]], context: dict, seed: int) -> list[float]:
    """Search evaluator: validation MSE of each parameter set (NaN when a simulation diverged).

    ``context``: ``condition`` (a key of :data:`CONDITIONS`), ``n_repeats``, ``dt``, ``dtype``,
    ``network_seed``, ``device`` and optionally ``timing`` (the task's periods in ms).
    """
    model = _model(params, context)
    task = CuedMemory(dt=model.dt_ms, timing=context.get("timing"))
    batch = task.batch(4 * int(context.get("n_repeats", 2)), seed=seed)
    result = model.simulate(batch.inputs, seed=seed)
    states = filter_spikes(result.spikes, model.record_dt, model.tau_filter_ms)
    out = model.output_nodes()
    return [float("nan") if result.diverged[k].any() else memory_error(states[:, k], batch, output_nodes=out[k])
            for k in range(model.n_networks)]


def _cue_drive(model: BiophysicalReservoir) -> np.ndarray:
    """Cue input of each E cell in each of the four conditions, ``(4, n_e)``."""
    batch = CuedMemory(dt=model.dt_ms).batch(4, seed=0)
    rates = model.cue_rates(batch.inputs).sum(axis=0)  # (4, n_cue)
    return rates @ model.cue_e_mask.T.astype(float)


def brc_group(group: dict, *, workdir: Path) -> dict:
    """Runner executor: search one (condition, seed), then score and analyse its best network."""
    from ..fitting.search import run_search

    ctx = {"condition": group["condition"], "n_repeats": group["n_repeats"], "dt": group["dt"],
           "dtype": group["dtype"], "network_seed": group["seed"]}
    result = run_search(search_space(), brc_objective, outdir=Path(workdir) / "search",
                        n_rounds=group["n_rounds"], n_proposals=group["n_proposals"], context=ctx,
                        sampler=group["sampler"], seed=group["seed"], progress=False,
                        x0=start_point())
    if not result.best_params:
        raise RuntimeError(f"every proposal diverged for {group['condition']} seed {group['seed']}")
    model = _model([result.best_params], ctx)
    batch = CuedMemory(dt=model.dt_ms).batch(4 * group["eval_repeats"], seed=10_000 + group["seed"])
    sim = model.simulate(batch.inputs, seed=10_000 + group["seed"])
    if sim.diverged.any():
        raise RuntimeError(f"the best network of {group['condition']} seed {group['seed']} diverged on fresh trials")
    states = filter_spikes(sim.spikes, model.record_dt, model.tau_filter_ms)[:, 0]
    cond = batch.info["condition"].to_numpy()
    n_e = model.wiring.n_e
    cluster = cued_cluster_activity(sim.spikes[:, 0, :, :n_e], _cue_drive(model), cond,
                                    record_dt=model.record_dt)
    metrics = {
        "error": memory_error(states, batch, output_nodes=model.output_nodes()[0]),
        "search_best_error": result.best_value,
        "attractor_separation": attractor_separation(states[:, :, :n_e], cond, record_dt=model.record_dt),
        "dimensionality": float(dimensionality(states[:, :, :n_e])),
        "rate_e_hz": float(sim.spikes[:, 0, :, :n_e].sum(axis=0).mean() / (sim.spikes.shape[0] * model.record_dt) * 1e3),
        "rate_i_hz": float(sim.spikes[:, 0, :, n_e:].sum(axis=0).mean() / (sim.spikes.shape[0] * model.record_dt) * 1e3),
        "n_failed_proposals": float((result.trials["state"] == "FAIL").sum()),
        **{f"cluster_{k}": v for k, v in cluster.items()},
    }
    run_id = group["run_ids"][0]
    rows = [{"run_id": run_id, "metric": k, "value": float(v), "condition": group["condition"],
             "seed": group["seed"]} for k, v in metrics.items()]
    workdir = Path(workdir)
    (workdir / "best_params.json").write_text(json.dumps(result.best_params, indent=1))
    np.savez_compressed(workdir / "final.npz", spikes=sim.spikes[:, 0], conditions=cond,
                        cue_drive=_cue_drive(model), record_dt=model.record_dt, n_e=n_e)
    curves = [{"run_id": run_id, "round": int(r), "best_so_far": float(v)} for r, v in
              result.trials.groupby("round")["value"].min().cummin().items()]
    return {"rows": rows, "curves": curves, "artifacts": {"best_params": "best_params.json", "final": "final.npz"}}


def shipped_spec_path(spec: str | Path) -> Path:
    """A spec file, or the path of a shipped biophysical spec given by name (``brc_working_memory``)."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a biophysical spec .toml file (or a shipped "
                                "spec's name, e.g. brc_working_memory)")
    shipped = Path(str(resources.files("conn2rnn") / "specs" / "biophys"))
    candidate = shipped / f"{spec}.toml"
    if candidate.is_file():
        return candidate
    names = sorted(p.stem for p in shipped.glob("*.toml"))
    raise FileNotFoundError(f"spec {spec!r} is neither a file nor a shipped biophysical spec ({', '.join(names)})")


_SEED_MAX = 2**31 - 1  # the samplers' numpy seeds are 32-bit; the final evaluation adds 10_000
_AT_LEAST = {"n_rounds": 1, "n_proposals": 1, "n_repeats": 2, "eval_repeats": 2}
_WHY = {"n_repeats": " (the error holds each repeat out in turn, so it needs 2)",
        "eval_repeats": " (the final score holds each repeat out in turn, so it needs 2)"}


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_run(run: Any, where: str = "[run]") -> dict[str, Any]:
    """Validate the ``[run]`` settings of a spec and fill the defaults; every problem in one error.

    Parameters
    ----------
    run : mapping
        ``conditions`` (non-empty list of :data:`CONDITIONS` keys), ``seeds``
        (non-empty list of distinct ints in ``[0, 2**31 - 1]``), ``n_rounds`` and
        ``n_proposals`` (ints >= 1), ``n_repeats`` and ``eval_repeats`` (ints >= 2),
        ``dt`` (ms, in ``(0, 0.1]``), ``dtype`` (``"float64"`` or ``"float32"``),
        ``sampler`` (:data:`conn2rnn.fitting.search.SAMPLERS`).
    where : str
        Where the settings come from, for the message.

    Returns
    -------
    dict
        Every key of the protocol, defaults filled in.

    Raises
    ------
    ValueError
        Listing every problem on one line, before anything is simulated.
    """
    from ..fitting.search import SAMPLERS
    from .engine import MAX_DT_MS

    if not isinstance(run, Mapping):
        raise ValueError(f"{where} must be a table of settings; got {type(run).__name__}")
    problems = []
    unknown = sorted(set(run) - set(_RUN_DEFAULTS), key=str)
    if unknown:
        problems.append(f"unknown key(s) {unknown} (valid keys: {', '.join(_RUN_DEFAULTS)})")
    out = {**_RUN_DEFAULTS, **{k: v for k, v in run.items() if k in _RUN_DEFAULTS}}
    conds, seeds = out["conditions"], out["seeds"]
    if isinstance(conds, str) or not isinstance(conds, (list, tuple)):
        problems.append(f"conditions must be a list of condition names, e.g. [\"NMDA_soma\"]; got {conds!r}")
    elif not conds:
        problems.append(f"conditions is empty, so nothing would run; name at least one of {list(CONDITIONS)}")
    else:
        bad = [c for c in conds if c not in CONDITIONS]
        if bad:
            problems.append(f"unknown condition(s) {bad}; choose from {list(CONDITIONS)}")
        elif len(set(conds)) != len(conds):
            problems.append(f"conditions has duplicates: {list(conds)}")
    if isinstance(seeds, str) or not isinstance(seeds, (list, tuple)):
        problems.append(f"seeds must be a list of integers, e.g. [0, 1, 2]; got {seeds!r}")
    elif not seeds:
        problems.append("seeds is empty, so nothing would run; give at least one seed, e.g. [0]")
    elif not all(_is_int(x) and 0 <= x <= _SEED_MAX for x in seeds):
        problems.append(f"seeds must be integers in [0, 2**31 - 1]; got {list(seeds)}")
    elif len(set(seeds)) != len(seeds):
        problems.append(f"seeds has duplicates: {list(seeds)}")
    for key, low in _AT_LEAST.items():
        if not _is_int(out[key]) or out[key] < low:
            problems.append(f"{key} must be an integer >= {low}{_WHY.get(key, '')}; got {out[key]!r}")
    dt = out["dt"]
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not 0 < dt <= MAX_DT_MS:
        problems.append(f"dt must be a step in ms in (0, {MAX_DT_MS:g}] (0.025 is the paper's); got {dt!r}")
    if out["dtype"] not in ("float64", "float32"):
        problems.append(f"dtype must be 'float64' or 'float32'; got {out['dtype']!r}")
    if out["sampler"] not in SAMPLERS:
        problems.append(f"sampler must be one of {list(SAMPLERS)}; got {out['sampler']!r}")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    out["conditions"], out["seeds"] = list(conds), [int(x) for x in seeds]
    out["dt"] = float(dt)
    return out


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read and validate the ``[run]`` table of a TOML spec (see :func:`check_run`).

    A file without a ``[run]`` table is refused: the defaults are the paper's full
    protocol (hours of simulation), which should never start by mistake.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a biophysical spec .toml file (or a shipped "
                                "spec's name, e.g. brc_working_memory)")
    spec = _toml.loads(path.read_text(), what=f"spec {path}")
    if "run" not in spec:
        raise ValueError(f"{path} has no [run] table; a biophysical spec states its protocol there (conditions, "
                         "seeds, n_rounds, ...), and without it the full default protocol (hours) would start. "
                         f"Copy the shipped spec {shipped_spec_path('brc_working_memory')} and edit it")
    other = sorted(set(spec) - {"run"})
    if other:
        raise ValueError(f"{path}: unknown table(s) or key(s) {other} beside [run]; a biophysical spec has only [run]")
    return check_run(spec["run"], f"[run] of {path}")


def _check_store_spec(store: Any, cfg: Mapping[str, Any]) -> None:
    """Refuse a store whose groups were made by another protocol (they are named by condition and seed only)."""
    text = store.read_spec()
    if text is not None:
        old = _toml.loads(text, what=f"{store.spec_path}")
        if "run" not in old:
            raise FileExistsError(f"{store.root} is an experiment folder of `conn2rnn run` (its spec.toml has no "
                                  "[run] table), not a biophysical result store; use another --out folder")
        old = old["run"]
        diff = sorted(k for k in set(old) | set(cfg) if old.get(k) != cfg.get(k))
    else:  # a store written before specs were kept: compare with its first search's settings
        diff = []
        for path in sorted(store.root.glob("groups/*/search/search.json"))[:1]:
            data = json.loads(path.read_text())
            ctx = data.get("context", {})
            seen = {"n_proposals": data.get("n_proposals"), "sampler": data.get("sampler"),
                    "n_repeats": ctx.get("n_repeats"), "dt": ctx.get("dt"), "dtype": ctx.get("dtype")}
            diff = sorted(k for k, v in seen.items() if v is not None and v != cfg[k])
    # another list of conditions or seeds only adds or leaves out groups; every other setting changes them
    diff = [k for k in diff if k not in ("conditions", "seeds")]
    if diff:
        raise FileExistsError(f"{store.root} holds groups of a different protocol (it differs in {diff}); its "
                              "groups are named by condition and seed only, so they would be mixed with this "
                              "spec's. Use a new --out folder, or the spec that made this one")


def spec_groups(store: Any) -> tuple[list[str] | None, str | None]:
    """The completed groups of a brc store's spec, and what a report should say about the rest.

    Returns
    -------
    groups : list of str or None
        The completed (condition, seed) groups of the spec in ``spec.toml`` (None for
        a store written before specs were kept: then every completed group is read).
    note : str or None
        A sentence when only some of the spec's groups are complete, or when the
        store holds groups outside the spec (they are left out); also warned.
    """
    import warnings

    text = store.read_spec()
    if text is None:
        return None, None
    if "run" not in _toml.loads(text, what=str(store.spec_path)):
        raise ValueError(f"{store.root} is an experiment folder of `conn2rnn run`, not a biophysical result "
                         f"store; write it up with: conn2rnn report {store.root}")
    cfg = check_run(_toml.loads(text, what=str(store.spec_path)).get("run", {}), f"[run] of {store.spec_path}")
    ids = [f"{c}-seed{s}" for s in cfg["seeds"] for c in cfg["conditions"]]
    done = store.completed()
    groups = [g for g in ids if g in done]
    notes = []
    if len(groups) < len(ids):
        notes.append(f"**Incomplete:** {len(groups)} of {len(ids)} (condition, seed) groups of the spec are "
                     "complete; every number below covers those groups only.")
    other = sorted(done - set(ids))
    if other:
        notes.append(f"{len(other)} stored group(s) are not in the spec's conditions and seeds and are left out.")
    for note in notes:
        warnings.warn(f"{store.root}: {note.replace('**', '')}", UserWarning, stacklevel=3)
    return groups, " ".join(notes) or None


def run_protocol(spec: Mapping[str, Any] | str | Path, outdir: str | Path, *, runner: str = "serial",
                 n_workers: int | None = None, progress: bool = True):
    """Run (or resume) every (condition, seed) group of a spec into ``outdir``; returns the results table.

    The four cue conditions of the 2 x 2 table run first for every seed, then the variants.
    Everything is checked before anything is written or simulated: the spec
    (:func:`check_run`), the runner's options, the output folder (a folder that is
    not a result store must be new or empty) and, for an existing store, that its
    groups were made by the same protocol (the store keeps its spec in ``spec.toml``).
    """
    from ..experiments.folders import check_output_folder
    from ..experiments.runners import check_run_options, run_groups
    from ..experiments.store import ResultStore

    cfg = load_spec(spec) if isinstance(spec, (str, Path)) else check_run(spec, "spec")
    check_run_options(runner, n_workers)
    check_output_folder(outdir)
    keys = ("n_rounds", "n_proposals", "n_repeats", "eval_repeats", "dt", "dtype", "sampler")
    main = [c for c in cfg["conditions"] if c in _MAIN]
    variants = [c for c in cfg["conditions"] if c not in _MAIN]
    # the 2 x 2 conditions first (every seed), then the variants: a partial run covers the main table
    groups = [{"group_id": f"{cond}-seed{seed}", "run_ids": [f"{cond}-seed{seed}"], "condition": cond,
               "seed": int(seed), **{k: cfg[k] for k in keys}}
              for block in (main, variants) for seed in cfg["seeds"] for cond in block]
    store = ResultStore(outdir)
    with store.lock():
        _check_store_spec(store, cfg)
        store.write_spec(_toml.dumps({"run": cfg}), overwrite=True)
        return run_groups(groups, brc_group, store, runner=runner, n_workers=n_workers, progress=progress)
