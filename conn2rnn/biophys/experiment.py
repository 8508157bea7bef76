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
    "load_spec",
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
    shipped = Path(str(resources.files("conn2rnn") / "specs" / "biophys"))
    candidate = shipped / f"{spec}.toml"
    if candidate.is_file():
        return candidate
    names = sorted(p.stem for p in shipped.glob("*.toml"))
    raise FileNotFoundError(f"spec {spec!r} is neither a file nor a shipped biophysical spec ({', '.join(names)})")


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read ``[run]`` of a TOML spec, filling defaults; unknown keys and conditions raise."""
    path = Path(path)
    spec = _toml.loads(path.read_text(), what=f"spec {path}")
    run = dict(spec.get("run", {}))
    unknown = sorted(set(run) - set(_RUN_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in [run] of {path}; valid keys: {sorted(_RUN_DEFAULTS)}")
    out = {**_RUN_DEFAULTS, **run}
    bad = [c for c in out["conditions"] if c not in CONDITIONS]
    if bad:
        raise ValueError(f"unknown condition(s) {bad} in {path}; choose from {list(CONDITIONS)}")
    if out["dtype"] not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {out['dtype']!r}")
    return out


def run_protocol(spec: Mapping[str, Any] | str | Path, outdir: str | Path, *, runner: str = "serial",
                 n_workers: int | None = None, progress: bool = True):
    """Run (or resume) every (condition, seed) group of a spec into ``outdir``; returns the results table.

    The four cue conditions of the 2 x 2 table run first for every seed, then the variants.
    """
    from ..experiments.runners import run_groups
    from ..experiments.store import ResultStore

    cfg = load_spec(spec) if isinstance(spec, (str, Path)) else {**_RUN_DEFAULTS, **dict(spec)}
    keys = ("n_rounds", "n_proposals", "n_repeats", "eval_repeats", "dt", "dtype", "sampler")
    main = [c for c in cfg["conditions"] if c in _MAIN]
    variants = [c for c in cfg["conditions"] if c not in _MAIN]
    # the 2 x 2 conditions first (every seed), then the variants: a partial run covers the main table
    groups = [{"group_id": f"{cond}-seed{seed}", "run_ids": [f"{cond}-seed{seed}"], "condition": cond,
               "seed": int(seed), **{k: cfg[k] for k in keys}}
              for block in (main, variants) for seed in cfg["seeds"] for cond in block]
    store = ResultStore(outdir)
    return run_groups(groups, brc_group, store, runner=runner, n_workers=n_workers, progress=progress)
