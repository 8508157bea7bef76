"""Backpropagation-through-time training of a :class:`~conn2rnn.models.BioRNN` ensemble.

All K networks see the same batches and are trained in one pass: the per-network
losses are summed for the backward pass (the networks share no weights, so the
gradients separate), gradients are clipped per network, and Adam's elementwise
state keeps them independent; member ``k`` follows exactly the trajectory it
would follow alone. A network whose loss, gradient or weights turn non-finite is
frozen at its last finite weights and reported; the others go on.

Options that act over training (all off by default, and free when off):

* ``schedules``: values that change with the step (:mod:`conn2rnn.fitting.schedules`):
  ``"strength"`` (spatial-cost strength per network, written into the model's
  ``strengths`` buffer, the single source of the regime strength),
  ``"plasticity"`` (per-node learning-rate multiplier of each node's incoming
  weights, e.g. a :class:`~conn2rnn.fitting.schedules.PlasticityWave`),
  ``"input_mask"`` / ``"output_mask"`` (boolean I/O masks) and ``"lr"``;
* ``pruning``: a :class:`~conn2rnn.fitting.pruning.Pruning` of the recurrent mask;
* ``snapshot_steps``: weights and topology at chosen steps (:mod:`conn2rnn.fitting.snapshots`);
* ``lr_tau`` / ``lr_gain``: learning rates of learnable time constants and gains
  (their own Adam parameter groups).

The plasticity multiplier ``m_i`` scales the *update* of row ``i`` of ``W``,
``W_in`` and ``b``, not its gradient: after Adam's step,
``p = p_old + m_i (p_adam - p_old)``. Scaling the gradient would be undone by
Adam's normalisation (``m g / sqrt(m^2 v) = g / sqrt(v)``); scaling the update
is exact (``m = 0`` freezes the row, ``m = 1`` is plain Adam) while the moments
still follow the raw gradient.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from conn2rnn.models.biornn import BioRNN
from conn2rnn.tasks import accuracy, get_task
from .._validation import check_criterion
from . import _training_utils as U
from .pruning import Pruning
from .snapshots import SnapshotRecorder, Snapshots

__all__ = ["TrainResult", "train", "SCHEDULABLE"]

SCHEDULABLE: tuple[str, ...] = ("strength", "plasticity", "input_mask", "output_mask", "lr")

_CURVE_COLUMNS = ("step", "trials", "network", "seed", "loss", "task_loss", "reg_loss", "accuracy")


@dataclass(eq=False)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    curves : pandas.DataFrame
        Tidy learning curves, one row per evaluation point and network: ``step``
        (optimizer steps done), ``trials`` (training trials seen), ``network``,
        ``seed``, ``loss`` / ``task_loss`` / ``reg_loss`` (mean over the training
        steps since the previous evaluation; NaN at step 0) and ``accuracy``
        (held-out accuracy, or R^2 for regression, on a fixed evaluation batch).
    final_accuracy : (K,) ndarray
        Held-out accuracy on a fresh batch after training.
    trials_to_criterion : (K,) ndarray
        Training trials seen when the held-out accuracy first reached the
        criterion (NaN if never): learning speed.
    diverged : (K,) bool ndarray
        Networks frozen because their loss, gradient or weights became non-finite.
    diverged_step : (K,) ndarray
        Step at which each network was frozen (NaN if it never was).
    criterion : float
    n_steps : int
    elapsed_s : float
        Wall-clock seconds of this call (not part of the reproducible result).
    snapshots : Snapshots or None
        Weights and metrics at ``snapshot_steps`` (``snapshots.table`` is tidy).
    active_weights : (K,) ndarray or None
        Recurrent weights left in each network after pruning (None without pruning).
    """

    curves: pd.DataFrame
    final_accuracy: np.ndarray
    trials_to_criterion: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    criterion: float
    n_steps: int
    elapsed_s: float = field(default=0.0)
    snapshots: Snapshots | None = None
    active_weights: np.ndarray | None = None

    def summary(self) -> pd.DataFrame:
        """One row per network: seed, final accuracy, trials to criterion, divergence."""
        seeds = self.curves.drop_duplicates("network").set_index("network")["seed"]
        k = self.final_accuracy.shape[0]
        return pd.DataFrame({
            "network": np.arange(k), "seed": seeds.reindex(np.arange(k)).to_numpy(),
            "final_accuracy": self.final_accuracy, "trials_to_criterion": self.trials_to_criterion,
            "diverged": self.diverged, "diverged_step": self.diverged_step,
        })


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def _check_compatible(model, task) -> None:
    if not isinstance(model, BioRNN):
        raise TypeError(f"model must be a BioRNN; got {type(model).__name__}")
    for what in ("n_inputs", "n_outputs"):
        if getattr(model, what) != getattr(task, what):
            raise ValueError(
                f"task {task.name!r} has {what}={getattr(task, what)} but the model has {getattr(model, what)}; "
                f"build the model for this task (BioRNN.from_graph(graph, task, ...))"
            )
    if task.kind not in ("classification", "regression"):
        raise ValueError(f"task.kind must be 'classification' or 'regression'; got {task.kind!r}")


def _accuracy(model, batch, dtype) -> np.ndarray:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs, _ = model(torch.from_numpy(np.array(batch.inputs)).to(dtype), noise=False)
    model.train(was_training)
    return np.atleast_1d(np.asarray(accuracy(outputs, batch), dtype=np.float64))


def train(
    model,
    task,
    *,
    n_steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    grad_clip: float | None = 1.0,
    regime: Any = None,
    regime_arrays: Any = None,
    eval_every: int = 50,
    eval_batch_size: int = 128,
    criterion: float = 0.9,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 100,
    resume: bool = True,
    seed: int = 0,
    progress: bool = True,
    lr_tau: float | None = None,
    lr_gain: float | None = None,
    schedules: dict[str, Any] | None = None,
    pruning: Pruning | None = None,
    snapshot_steps: Any = None,
    snapshot_density: float = 0.1,
    gain_signal: Any = None,
    device: Any = None,
) -> TrainResult:
    """Train every network of ``model`` on ``task`` with Adam (in place).

    Per-network loss: task loss (cross-entropy over ``loss_mask`` steps for
    classification, MSE for regression) + ``model.weight_cost()`` (regime
    spatial cost with the network's strength, L1, L2) + the regime's activity
    rate times ``mean |h|``.

    Parameters
    ----------
    model : BioRNN
        Trained in place.
    task : Task or str
        A task (or registered name) whose sizes match the model.
    n_steps : int
        Optimizer steps in total (a resumed run continues up to it).
    batch_size : int
        Trials per step; step ``s`` uses ``task.batch(batch_size, seed=f(seed, s))``.
    lr : float
        Adam learning rate.
    grad_clip : float or None
        Maximum gradient norm, per network.
    regime, regime_arrays : optional
        Attach a regime and its resolved arrays to the model first
        (:meth:`BioRNN.set_regime`); by default the model's own.
    eval_every : int
        Steps between held-out evaluations (also at step 0 and at the end).
    eval_batch_size : int
        Trials in the fixed evaluation batch and in the final fresh batch.
    criterion : float
        Held-out accuracy in (0, 1] that defines trials-to-criterion (the same rule
        as the spec's ``[training] criterion``).
    checkpoint_dir : path, optional
        Folder for ``checkpoint.pt`` (model, optimizer, noise generators,
        curves), written atomically every ``checkpoint_every`` steps and at the end.
    checkpoint_every : int
    resume : bool
        Continue from the checkpoint in ``checkpoint_dir`` if there is one; the
        result is identical to an uninterrupted run.
    seed : int
        Seed of the batch streams (networks draw their noise from their own seeds).
    progress : bool
        Show a tqdm progress bar.
    lr_tau, lr_gain : float, optional
        Adam learning rates of learnable time constants (``tau_raw``) and node
        gains; default ``lr``.
    schedules : dict, optional
        ``{name: schedule}`` with names in :data:`SCHEDULABLE`; a schedule is any
        callable ``step -> value`` (:class:`~conn2rnn.fitting.schedules.Schedule`,
        :class:`~conn2rnn.fitting.schedules.PlasticityWave`). Values: ``strength``
        a float or (K,) >= 0; ``plasticity`` (N,) or (K, N) >= 0; ``input_mask``
        (N, I) / (K, N, I) and ``output_mask`` (O, N) / (K, O, N) bool; ``lr`` a
        float > 0. The value at step ``t`` is used for the update of step ``t``.
        JSON form: a dict such as ``{"kind": "linear", "start": 0.0, "end": 1e-2,
        "duration": 500}`` or ``{"kind": "wave", "axis": "sa_axis", "n_steps": 1000}``
        (a wave's axis may name a map of ``model.graph``).
    pruning : Pruning or dict, optional
        Prune the recurrent mask at its events (before that step's update); a
        dict holds :class:`~conn2rnn.fitting.pruning.Pruning`'s fields.
    snapshot_steps : iterable of int, optional
        Record weights and metrics after these numbers of optimiser steps (0:
        before training) in ``TrainResult.snapshots``.
    snapshot_density : float
        Density the snapshot topology (modularity, small-worldness) thresholds to.
    gain_signal : (T,) or (T, K) array_like, optional
        Gain signal over the trial passed to every forward pass (see
        :meth:`BioRNN.forward`); the task's trials must have T steps.
    device : str or torch.device, optional
        Where the whole run happens, e.g. ``"cuda"`` or ``"cuda:1"``; default the
        device the model is on. The model is moved there for training and back to
        its own device afterwards. Batches and noise are drawn on the CPU from
        the same seeds on every device, so a GPU run differs from the CPU run only
        by floating-point rounding. Checkpoints are device-independent: a run
        started on a GPU can resume on the CPU and vice versa.

    Returns
    -------
    TrainResult
    """
    started = time.perf_counter()
    task = get_task(task) if isinstance(task, str) else task
    _check_compatible(model, task)
    n_steps = _check_int(n_steps, "n_steps", 0)
    batch_size = _check_int(batch_size, "batch_size", 1)
    eval_every = _check_int(eval_every, "eval_every", 1)
    eval_batch_size = _check_int(eval_batch_size, "eval_batch_size", 1)
    checkpoint_every = _check_int(checkpoint_every, "checkpoint_every", 1)
    seed = _check_int(seed, "seed", 0)
    lr = _check_positive(lr, "lr")
    grad_clip = None if grad_clip is None else _check_positive(grad_clip, "grad_clip")
    criterion = check_criterion(criterion)
    if (regime is None) != (regime_arrays is None):
        raise ValueError("pass regime and regime_arrays together (regime_arrays = resolve_regime(regime, graph))")
    if regime is not None:
        model.set_regime(regime, regime_arrays)
    lr_tau = lr if lr_tau is None else _check_positive(lr_tau, "lr_tau")
    lr_gain = lr if lr_gain is None else _check_positive(lr_gain, "lr_gain")
    schedules = U.check_schedules(schedules, SCHEDULABLE, model.graph)
    if isinstance(pruning, dict):
        pruning = Pruning(**pruning)
    if pruning is not None and not isinstance(pruning, Pruning):
        raise TypeError(f"pruning must be a conn2rnn.fitting.Pruning or a dict of its fields; "
                        f"got {type(pruning).__name__}")

    device = resolve_device(device, model.w_rec_raw.device)
    with _moved_to(model, device):
        k = model.n_networks
        dtype = model.w_rec_raw.dtype
        params = [p for p in model.parameters() if p.requires_grad]
        special = {"tau_raw": lr_tau, "node_gain": lr_gain}
        named = dict(model.named_parameters())
        groups = [{"params": [p for name, p in named.items() if p.requires_grad and name not in special], "lr": lr}]
        groups += [{"params": [named[name]], "lr": rate} for name, rate in special.items()
                   if name in named and named[name].requires_grad]
        optimizer = torch.optim.Adam(groups, lr=lr)
        plastic = [p for p in (model.w_rec_raw, model.w_in_raw, model.b_rec) if p.requires_grad]
        fingerprint = {
            "model": model.config, "task": task.to_dict(), "batch_size": batch_size, "lr": lr,
            "grad_clip": grad_clip, "eval_every": eval_every, "eval_batch_size": eval_batch_size,
            "criterion": criterion, "seed": seed,
            "regimes": None if model.regimes is None else [r.to_dict() for r in model.regimes],
        }
        extras = {"lr_tau": lr_tau, "lr_gain": lr_gain, "schedules": U.describe_schedules(schedules),
                  "pruning": None if pruning is None else pruning.to_dict(),
                  "snapshot_steps": None if snapshot_steps is None else sorted(set(int(s) for s in snapshot_steps)),
                  "snapshot_density": snapshot_density,
                  "gain_signal": None if gain_signal is None else np.asarray(gain_signal, float).tolist()}
        defaults = {"lr_tau": lr, "lr_gain": lr, "schedules": {}, "pruning": None, "snapshot_steps": None,
                    "snapshot_density": 0.1, "gain_signal": None}
        fingerprint.update({key: v for key, v in extras.items() if v != defaults[key]})  # old checkpoints still match
        recorder = SnapshotRecorder(snapshot_steps, model, density=_check_positive(snapshot_density,
                                                                                    "snapshot_density"))
        allowed = model.recurrent_mask.clone()
        distances = pruning.distances(model) if pruning is not None else None
        eval_batch = task.batch(eval_batch_size, seed=U.derived_seed(seed, 1))
        curves = {name: [] for name in _CURVE_COLUMNS}
        active = torch.ones(k, dtype=torch.bool, device=device)
        diverged_step = np.full(k, np.nan)
        ttc = np.full(k, np.nan)
        sums = torch.zeros(3, k, dtype=torch.float64, device=device)  # loss, task, reg since the last evaluation
        n_summed = 0
        step = 0

        loaded = U.load_checkpoint(checkpoint_dir) if (checkpoint_dir is not None and resume) else None
        if loaded is not None:
            payload, meta = loaded
            if meta["fingerprint"] != _jsonable(fingerprint):
                diff = sorted(key for key in fingerprint if _jsonable(fingerprint)[key] != meta["fingerprint"].get(key))
                raise ValueError(
                    f"the checkpoint in {checkpoint_dir} was written by a different run (differs in {diff}); "
                    f"use resume=False or another checkpoint_dir"
                )
            if meta["step"] > n_steps:
                raise ValueError(f"the checkpoint is at step {meta['step']} > n_steps={n_steps}; raise n_steps")
            model.load_state_dict(payload["model"])
            model.set_noise_state(payload["noise"])
            optimizer.load_state_dict(payload["optimizer"])
            step, n_summed = meta["step"], meta["n_summed"]
            active, sums = payload["active"].to(device), payload["sums"].to(device)
            diverged_step, ttc = payload["diverged_step"].numpy().copy(), payload["ttc"].numpy().copy()
            curves = {name: list(payload["curves"][name].tolist()) for name in _CURVE_COLUMNS}
            allowed = payload.get("allowed_mask", allowed).to(device)
            if "snapshots" in payload:
                recorder.load_state(payload["snapshots"])

        def evaluate() -> None:
            nonlocal sums, n_summed
            acc = _accuracy(model, eval_batch, dtype)
            means = (sums / n_summed).cpu().numpy() if n_summed else np.full((3, k), np.nan)
            for j in range(k):
                row = (step, step * batch_size, j, model.config["seeds"][j], *means[:, j], acc[j])
                for name, value in zip(_CURVE_COLUMNS, row):
                    curves[name].append(value)
            reached = np.isnan(ttc) & (acc >= criterion)
            ttc[reached] = step * batch_size
            sums, n_summed = torch.zeros_like(sums), 0

        def record() -> None:
            if recorder.wants(step):
                recorder.record(model, step, step * batch_size, _accuracy(model, eval_batch, dtype))

        def checkpoint() -> None:
            payload = {
                "model": _to_cpu(model.state_dict()), "optimizer": _to_cpu(optimizer.state_dict()),
                "noise": model.noise_state(), "active": active.cpu(), "sums": sums.cpu(),
                "diverged_step": torch.from_numpy(diverged_step),
                "ttc": torch.from_numpy(ttc),
                "curves": {name: torch.tensor(curves[name], dtype=torch.float64) for name in _CURVE_COLUMNS},
                "allowed_mask": allowed.cpu(), "snapshots": recorder.state(),
            }
            meta = {"step": step, "n_summed": n_summed, "fingerprint": _jsonable(fingerprint)}
            U.save_checkpoint(checkpoint_dir, payload, meta)

        if loaded is None:
            evaluate()
            record()
        bar = tqdm(total=n_steps, initial=step, disable=not progress, desc="train", unit="step")
        model.train()
        while step < n_steps:
            batch = task.batch(batch_size, seed=U.derived_seed(seed, 0, step)).to_torch(device)
            multiplier = U.apply_schedules(model, optimizer, schedules, step)
            if pruning is not None and pruning.is_event(step):
                pruning.apply(model, optimizer, step, allowed, distances)
            snapshot = [p.detach().clone() for p in params]
            outputs, states = model(batch["inputs"].to(dtype), gain_signal=gain_signal)
            task_l = U.task_loss(outputs, batch, task.kind)
            reg_l = model.weight_cost()
            rates = model.activity_rates()
            if bool((rates > 0).any()):
                reg_l = reg_l + rates * states.abs().mean(dim=(0, 2, 3))
            loss = task_l + reg_l
            ok = active & torch.isfinite(loss.detach())
            optimizer.zero_grad(set_to_none=False)
            torch.where(ok, loss, torch.zeros_like(loss)).sum().backward()
            norms = U.grad_norms(params, k)
            active = ok & torch.isfinite(norms)
            U.mask_and_clip_grads(params, active, norms, grad_clip)
            optimizer.step()
            if multiplier is not None:
                U.scale_updates(model, plastic, params, snapshot, multiplier)
            active &= U.finite_per_network(params, k)
            U.restore_networks(params, snapshot, ~active)
            step += 1
            newly = np.isnan(diverged_step) & ~active.cpu().numpy()
            diverged_step[newly] = step
            sums += torch.stack([loss.detach(), task_l.detach(), reg_l.detach()]).double()
            n_summed += 1
            if step % eval_every == 0 or step == n_steps:
                evaluate()
                if progress:
                    bar.set_postfix(acc=f"{np.nanmean(curves['accuracy'][-k:]):.3f}")
            record()
            if checkpoint_dir is not None and (step % checkpoint_every == 0 or step == n_steps):
                checkpoint()
            bar.update(1)
        bar.close()

        final = task.batch(eval_batch_size, seed=U.derived_seed(seed, 2))
        frame = pd.DataFrame(curves)
        for name in ("step", "trials", "network", "seed"):
            frame[name] = frame[name].astype(np.int64)
        return TrainResult(
            curves=frame, final_accuracy=_accuracy(model, final, dtype), trials_to_criterion=ttc,
            diverged=~np.isnan(diverged_step), diverged_step=diverged_step, criterion=criterion,
            n_steps=n_steps, elapsed_s=time.perf_counter() - started, snapshots=recorder.result(),
            active_weights=None if pruning is None else model.recurrent_mask.sum(dim=(1, 2)).cpu().numpy(),
        )


def resolve_device(device: Any, default: torch.device) -> torch.device:
    """``device`` as a ``torch.device`` that this machine has (``default`` for None).

    Raises
    ------
    ValueError
        For an unknown device string or a CUDA device that is not available.
    """
    if device is None:
        return torch.device(default)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device; got {device!r}") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but this torch has no usable CUDA device "
                             f"(torch {torch.__version__}); use device='cpu' or install a CUDA build of torch")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif dev.type not in ("cpu", "mps"):
        raise ValueError(f"device must be 'cpu' or a CUDA device; got {device!r}")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} but MPS is not available here; use device='cpu'")
    return dev


@contextlib.contextmanager
def _moved_to(model, device: torch.device):
    """Move ``model`` to ``device`` for the block, and back to its own device after it."""
    home = model.w_rec_raw.device
    model.to(device)
    try:
        yield
    finally:
        model.to(home)


def _to_cpu(obj: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU, for checkpoints."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {key: _to_cpu(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(value) for value in obj]
    return obj


def _jsonable(obj: Any) -> Any:
    """Normalise containers so a fingerprint compares equal to its JSON round trip."""
    import json

    return json.loads(json.dumps(obj))
