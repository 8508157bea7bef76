"""Helpers of :func:`conn2rnn.fitting.training.train`: per-network losses, gradient
handling that keeps the K networks of an ensemble independent, derived seeds and
atomic checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from conn2rnn.models._parametrize import node_map
from .._io import atomic_file
from .schedules import schedule_from_dict

CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = "conn2rnn-train-checkpoint"


# ----------------------------------------------------------------------------- seeds
def derived_seed(seed: int, *path: int) -> int:
    """A 32-bit seed for a named stream, e.g. ``(seed, 0, step)`` for training batches."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(1)[0])


# ----------------------------------------------------------------------------- losses
def task_loss(outputs: torch.Tensor, batch: dict[str, torch.Tensor], kind: str) -> torch.Tensor:
    """Per-network task loss over the ``loss_mask`` steps.

    Parameters
    ----------
    outputs : (T, K, B, O) tensor
        Logits (classification) or predictions (regression).
    batch : dict
        ``targets`` (T, B) int64 or (T, B, O) float, ``loss_mask`` (T, B).
    kind : {"classification", "regression"}
        Cross-entropy or mean squared error (averaged over outputs).

    Returns
    -------
    (K,) tensor
        Mean over masked (step, trial) pairs, weighted by the mask.
    """
    mask = batch["loss_mask"].to(outputs.dtype)
    total = mask.sum()
    if float(total) <= 0:
        raise ValueError("the batch's loss_mask is all zero; the task defines no step to learn from")
    if kind == "classification":
        targets = batch["targets"]
        logp = torch.log_softmax(outputs, dim=-1)
        index = targets[:, None, :, None].expand(*outputs.shape[:-1], 1)
        per_step = -logp.gather(-1, index).squeeze(-1)
    else:
        per_step = (outputs - batch["targets"].to(outputs.dtype).unsqueeze(1)).square().mean(dim=-1)
    return (per_step * mask.unsqueeze(1)).sum(dim=(0, 2)) / total


# ----------------------------------------------------------------------------- gradients
def _per_network(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def grad_norms(params: Sequence[torch.nn.Parameter], n_networks: int) -> torch.Tensor:
    """(K,) L2 norm of each network's gradient over all parameters (leading axis K)."""
    device = params[0].device if len(params) else None
    sq = torch.zeros(n_networks, dtype=torch.float64, device=device)
    for p in params:
        if p.grad is not None:
            sq += _per_network(p.grad).double().square().sum(dim=1)
    return sq.sqrt()


def mask_and_clip_grads(
    params: Sequence[torch.nn.Parameter], active: torch.Tensor, norms: torch.Tensor, max_norm: float | None
) -> None:
    """Zero the gradients of inactive networks and clip each network's gradient norm.

    Clipping follows ``torch.nn.utils.clip_grad_norm_`` (coefficient
    ``max_norm / (norm + 1e-6)``, capped at 1) but separately per network, so one
    network's gradient never rescales another's.
    """
    coef = torch.ones_like(norms)
    if max_norm is not None:
        coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    coef = torch.where(active, coef, torch.zeros_like(coef))
    for p in params:
        if p.grad is None:
            continue
        shape = (-1,) + (1,) * (p.grad.ndim - 1)
        keep = active.view(shape)
        p.grad.copy_(torch.where(keep, p.grad * coef.to(p.grad.dtype).view(shape), torch.zeros_like(p.grad)))


def finite_per_network(tensors: Sequence[torch.Tensor], n_networks: int) -> torch.Tensor:
    """(K,) bool: every entry of network k's slice of every tensor is finite."""
    ok = torch.ones(n_networks, dtype=torch.bool, device=tensors[0].device if len(tensors) else None)
    for t in tensors:
        ok &= torch.isfinite(_per_network(t.detach())).all(dim=1)
    return ok


@torch.no_grad()
def restore_networks(params: Sequence[torch.nn.Parameter], snapshot: Sequence[torch.Tensor],
                     which: torch.Tensor) -> None:
    """Copy ``snapshot`` back into the parameter slices of the networks where ``which`` is True."""
    if not bool(which.any()):
        return
    for p, s in zip(params, snapshot):
        p[which] = s[which]


# ----------------------------------------------------------------------------- checkpoints
def checkpoint_path(directory: str | os.PathLike) -> Path:
    return Path(directory) / CHECKPOINT_NAME


def save_checkpoint(directory: str | os.PathLike, payload: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors, plain containers) and JSON ``meta`` atomically.

    The file is written to a temporary file in the same folder, flushed to disk
    and moved over the old checkpoint with ``os.replace``, so an interruption
    leaves either the old or the new checkpoint, never a partial one.
    """
    target = checkpoint_path(directory)
    with atomic_file(target) as fh:
        torch.save({"format": _FORMAT, "meta": json.dumps(meta), **payload}, fh)
    return target


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back; ``path`` names it."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


def load_checkpoint(directory: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(payload, meta)`` from :func:`save_checkpoint`, or None when there is none.

    Loaded with ``torch.load(weights_only=True)``: no pickled code is executed.
    """
    path = checkpoint_path(directory)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or corrupt: torch's zip/unpickling errors
        why = (str(exc).strip().splitlines() or [""])[0][:120]
        raise CheckpointError(path, f"{path} is not a readable training checkpoint "
                              f"({type(exc).__name__}: {why}); delete it to train from scratch") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise CheckpointError(path, f"{path} is not a conn2rnn training checkpoint; remove it or pick another checkpoint_dir")
    return payload, json.loads(payload["meta"])


# ----------------------------------------------------------------------------- schedules
def check_schedules(schedules: Any, names: Sequence[str], graph: Any = None) -> dict[str, Any]:
    """Validate ``train(schedules=...)``: a dict of known names to schedules.

    A schedule is a callable ``step -> value`` or its JSON form (a dict for
    :func:`~conn2rnn.fitting.schedules.schedule_from_dict`); a wave's ``axis``
    may then name a map of ``graph`` (or ``"gradient"``).
    """
    if schedules is None:
        return {}
    if not isinstance(schedules, dict):
        raise TypeError(f"schedules must be a dict {{name: schedule}} with names in {list(names)}; "
                        f"got {type(schedules).__name__}")
    unknown = sorted(set(schedules) - set(names))
    if unknown:
        raise ValueError(f"schedules has unknown name(s) {unknown}; valid names are {list(names)}")
    out = {}
    for name, sched in schedules.items():
        if isinstance(sched, dict):
            sched = dict(sched)
            if sched.get("kind") == "wave" and isinstance(sched.get("axis"), str):
                if graph is None:
                    raise ValueError(f"schedules[{name!r}] names the axis {sched['axis']!r}, which needs a model "
                                     f"built with BioRNN.from_graph")
                sched["axis"] = node_map(graph, sched["axis"], f"schedules[{name!r}]['axis']")
            sched = schedule_from_dict(sched)
        if not callable(sched):
            raise TypeError(f"schedules[{name!r}] must be callable (step -> value), e.g. a Schedule, or its dict "
                            f"form; got {type(sched).__name__}")
        out[name] = sched
    return out


def describe_schedules(schedules: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe description of the schedules for a checkpoint fingerprint."""
    out = {}
    for name, sched in schedules.items():
        if hasattr(sched, "to_dict") and getattr(sched, "kind", None) != "custom":
            out[name] = sched.to_dict()
        else:
            fn = getattr(sched, "fn", sched)
            out[name] = {"kind": "custom", "fn": f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)}"}
    return out


def _schedule_value(schedules: dict[str, Any], name: str, step: int) -> np.ndarray:
    value = schedules[name](step)
    arr = np.asarray(value)
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"schedules[{name!r}] gave a non-numeric value at step {step}: {value!r}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"schedules[{name!r}] gave NaN or inf at step {step}")
    return arr


def _broadcast_value(arr: np.ndarray, k: int, shape: tuple[int, ...], name: str, step: int) -> np.ndarray:
    if arr.shape == shape:
        return np.broadcast_to(arr, (k, *shape))
    if arr.shape != (k, *shape):
        raise ValueError(f"schedules[{name!r}] must give shape {shape} (shared) or {(k, *shape)} (one per "
                         f"network); got {arr.shape} at step {step}")
    return arr


@torch.no_grad()
def apply_schedules(model, optimizer, schedules: dict[str, Any], step: int) -> torch.Tensor | None:
    """Set the scheduled values for the update of ``step``; returns the (K, N) plasticity multiplier or None."""
    if not schedules:
        return None
    k, n = model.n_networks, model.n_nodes
    if "strength" in schedules:
        arr = _schedule_value(schedules, "strength", step)
        arr = _broadcast_value(arr, k, (), "strength", step)
        if np.any(arr < 0):
            raise ValueError(f"schedules['strength'] must be >= 0; got {arr.tolist()} at step {step}")
        bases = model._regime_bases
        if np.any(arr > 0) and (bases is None or any(b.spatial_cost is None for b, s in zip(bases, arr) if s > 0)):
            raise ValueError("schedules['strength'] > 0 needs a regime with a spatial cost for that network "
                             "(build the model with BioRNN.from_graph and such a regime)")
        model.strengths.copy_(torch.tensor(arr, dtype=model.strengths.dtype))
    for name, shape in (("input_mask", (n, model.n_inputs)), ("output_mask", (model.n_outputs, n))):
        if name in schedules:
            arr = _schedule_value(schedules, name, step)
            if arr.dtype != bool:
                raise TypeError(f"schedules[{name!r}] must give a boolean mask; got dtype {arr.dtype} at step {step}")
            getattr(model, name).copy_(torch.from_numpy(np.ascontiguousarray(_broadcast_value(arr, k, shape, name, step))))
    if "lr" in schedules:
        arr = _schedule_value(schedules, "lr", step)
        if arr.ndim != 0 or not arr > 0:
            raise ValueError(f"schedules['lr'] must give one number > 0; got {arr.tolist()} at step {step}")
        optimizer.param_groups[0]["lr"] = float(arr)
    if "plasticity" in schedules:
        arr = _broadcast_value(_schedule_value(schedules, "plasticity", step), k, (n,), "plasticity", step)
        if np.any(arr < 0):
            raise ValueError(f"schedules['plasticity'] must be >= 0 (learning-rate multipliers); got min "
                             f"{arr.min():g} at step {step}")
        return torch.as_tensor(np.ascontiguousarray(arr), dtype=model.w_rec_raw.dtype, device=model.w_rec_raw.device)
    return None


@torch.no_grad()
def scale_updates(model, plastic: Sequence[torch.nn.Parameter], params: Sequence[torch.nn.Parameter],
                  before: Sequence[torch.Tensor], multiplier: torch.Tensor) -> None:
    """Scale the optimiser's update of each node's incoming weights by ``multiplier[k, i]``.

    ``p = p_old + m (p_new - p_old)`` (``torch.lerp``: exact at ``m = 0`` and ``m = 1``)
    on the rows of ``w_rec_raw`` (targets), ``w_in_raw`` and ``b_rec``.
    """
    index = {id(p): j for j, p in enumerate(params)}
    for p in plastic:
        old = before[index[id(p)]]
        m = multiplier if p.ndim == 2 else multiplier.unsqueeze(-1)
        p.copy_(torch.lerp(old, p, m))
