"""The reference's cued-memory task: cue cells, noise, readout and the objective.

- Cue: 25 cue cells with preferred values ``p`` drawn by ``default_rng(12345)``
  uniform in [-3, 3]^2; for a cue ``x`` each gets a current step of
  ``0.1 nA x sum_d exp(-((x_d - p_d) / 0.3)^2) / 2`` from 250 to 275 ms. Cue cells
  are deterministic (same spikes in every trial). Trials: the 4 cues
  ``(-2,-2), (2,2), (-2,2), (2,-2)`` x 5 repeats = 20 trials, in that order.
- Noise: every noise cell gets ``N(0, 0.06^2)`` nA per step of 0.025 ms.
- Initial state: every E and I compartment ``V ~ U(-80, -40)`` mV, gates 0.2.
- Readout: the voltage of the readout cells (compartment 0) every 0.25 ms from 250 to
  1000 ms; ridge regression (alpha 2, with intercept) onto the 2-d cue, five folds each
  leaving one repeat (4 trials) out; the error is the mean over folds of the mean
  squared error. A proposal whose mean |prediction| is below 0.2 is "null" (the
  reference adds 1000 to its error in the search).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .reference_engine import RefResult, cue_release, run_reference
from .reference_network import build_reference_circuit

__all__ = ["CUES", "ReferenceNetwork", "cue_amplitudes", "cue_preferences", "cv_ridge_error", "trial_cues"]

CUES = np.array([[-2.0, -2.0], [2.0, 2.0], [-2.0, 2.0], [2.0, -2.0]])
CUE_ON_MS = (250.0, 275.0)
NOISE_NA = 0.06
RIDGE_ALPHA = 2.0
NULL_PRED = 0.2
_CUE_CACHE: dict[tuple, dict] = {}


def cue_preferences(n_cue: int = 25, seed: int = 12345) -> np.ndarray:
    """(n_cue, 2) preferred cue values, ``default_rng(seed).uniform(-3, 3)``."""
    return np.random.default_rng(seed).uniform(-3, 3, (n_cue, 2))


def cue_amplitudes(cues: Any, n_cue: int = 25) -> np.ndarray:
    """(C, n_cue) current-step amplitudes (nA) of the cue cells for each cue of ``cues`` ((C, 2))."""
    cues = np.atleast_2d(np.asarray(cues, dtype=float))
    if cues.ndim != 2 or cues.shape[1] != 2:
        raise ValueError(f"cues must be (C, 2); got {cues.shape}")
    pref = cue_preferences(n_cue)
    return 0.1 * np.exp(-((cues[:, None, :] - pref[None]) / 0.3) ** 2).sum(-1) / 2.0


def trial_cues(n_repeats: int = 5) -> np.ndarray:
    """(4 n_repeats,) cue index of every trial: the 4 cues in order, repeated."""
    return np.tile(np.arange(len(CUES)), n_repeats)


def cv_ridge_error(features: np.ndarray, cue_index: Any, *, alpha: float = RIDGE_ALPHA,
                   fold_size: int = 4) -> tuple[float, np.ndarray]:
    """The reference's cross-validated readout error.

    Parameters
    ----------
    features : (N, T, F) ndarray
        Readout features of ``N`` trials (consecutive blocks of ``fold_size`` trials
        form the folds).
    cue_index : (N,) int array
        Cue of every trial (rows of :data:`CUES`); the target is that cue at every sample.

    Returns
    -------
    error : float
        Mean over folds of the validation mean squared error.
    mean_pred : (fold_size * 2,) ndarray
        Mean over folds of the per-trial mean prediction (the reference's null check
        is ``mean(|mean_pred|) < 0.2``).
    """
    x = np.asarray(features, dtype=float)
    n, t, f = x.shape
    cue_index = np.asarray(cue_index)
    if n % fold_size or cue_index.shape != (n,):
        raise ValueError(f"features must hold a multiple of {fold_size} trials with one cue each; "
                         f"got {n} trials and cue_index {cue_index.shape}")
    y = np.repeat(CUES[cue_index][:, None, :], t, axis=1)
    errors, preds = [], []
    for start in range(0, n, fold_size):
        val = np.zeros(n, bool)
        val[start:start + fold_size] = True
        xt, yt = x[~val].reshape(-1, f), y[~val].reshape(-1, 2)
        xm, ym = xt.mean(0), yt.mean(0)
        xc = xt - xm
        w = np.linalg.solve(xc.T @ xc + alpha * np.eye(f), xc.T @ (yt - ym))
        pred = (x[val] - xm) @ w + ym  # (fold, T, 2)
        errors.append(np.mean((y[val] - pred) ** 2))
        preds.append(pred.mean(1).reshape(-1))
    return float(np.mean(errors)), np.mean(preds, axis=0)


@dataclass
class ReferenceNetwork:
    """K parameter sets of the reference network under one condition.

    Parameters
    ----------
    params : mapping
        name -> float or (K,) array, every name of
        :func:`~.reference_network.reference_space` (physical units).
    condition : {'NMDA_soma', 'AMPA_soma', 'NMDA_dend', 'AMPA_dend'}
    dt : float
        Step, ms (the reference: 0.025).
    duration_ms : float
    n_e : int
    cue_seed : int
        Seed of the cue synapse draws.
    dtype : torch.dtype
    compile : bool
        Compile the integration step with ``torch.compile`` (worth it for 1 s trials).
    cue_on_ms : (float, float)
        Cue window; the readout is sampled from its onset on (the reference: 250-275 ms).
    """

    params: Mapping[str, Any]
    condition: str
    dt: float = 0.025
    duration_ms: float = 1000.0
    n_e: int = 50
    cue_seed: int = 0
    dtype: torch.dtype = torch.float64
    compile: bool = False
    cue_on_ms: tuple[float, float] = CUE_ON_MS

    def __post_init__(self) -> None:
        if not (isinstance(self.dt, (int, float)) and 0 < self.dt <= 0.1):
            raise ValueError(f"dt must be a number in (0, 0.1] ms; got {self.dt!r}")
        if not (isinstance(self.duration_ms, (int, float)) and self.duration_ms > 0):
            raise ValueError(f"duration_ms must be a number > 0 ms; got {self.duration_ms!r}")
        self.circuit, self.wiring = build_reference_circuit(self.params, self.condition, n_e=self.n_e,
                                                            cue_seed=self.cue_seed, dtype=self.dtype)
        # as Jaxley: int(t_max // dt + 1) steps (40000 for 1000 ms at 0.025 ms)
        self.n_steps = int(self.duration_ms // self.dt + 1)
        on = tuple(float(x) for x in self.cue_on_ms)
        if len(on) != 2 or not 0 <= on[0] < on[1] < self.duration_ms:
            raise ValueError(f"cue_on_ms must be (start, stop) with 0 <= start < stop < duration_ms; got {self.cue_on_ms!r}")
        self.cue_on_ms = on
        self.record_from = int(round(on[0] / self.dt))
        self.record_every = max(1, int(round(0.25 / self.dt)))

    @property
    def n_sets(self) -> int:
        """Number of parameter sets ``K``."""
        return int(self.circuit.e_dens["leak"].shape[0])

    def cue_r(self) -> dict:
        """Release states of the cue cells for the 4 cues (cached per ``dt``, duration and dtype)."""
        key = (self.dt, self.n_steps, str(self.dtype), self.cue_on_ms)
        if key not in _CUE_CACHE:
            on = (int(round(self.cue_on_ms[0] / self.dt)), int(round(self.cue_on_ms[1] / self.dt)))
            _CUE_CACHE[key] = cue_release(cue_amplitudes(CUES), on, self.n_steps, self.dt,
                                          self.circuit.s_chain, dtype=self.dtype)
        return _CUE_CACHE[key]

    def initial_state(self, n_trials: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``V ~ U(-80, -40)`` of every E and I compartment of ``n_trials`` trials."""
        gen = torch.Generator().manual_seed(int(seed))
        c = self.circuit
        v_e = -80.0 + 40.0 * torch.rand((n_trials, c.n_e, c.e_chain.n_comp), generator=gen, dtype=self.dtype)
        v_i = -80.0 + 40.0 * torch.rand((n_trials, c.n_i, c.s_chain.n_comp), generator=gen, dtype=self.dtype)
        return v_e, v_i

    def simulate(self, cue_index: Any, *, seed: int = 0, noise: Any = None, v0: Any = None,
                 record_v: bool = False) -> RefResult:
        """Simulate trials (every parameter set sees the same noise and initial state per trial).

        Parameters
        ----------
        cue_index : (B,) int array
            Row of :data:`CUES` of every trial.
        seed : int
            Seed of the initial voltages and the noise.
        noise : (n_steps, B, n_noise) array, optional
            The noise cells' currents (nA), instead of drawing them.
        v0 : (v_e (B, n_e, 16), v_i (B, n_i, 4)), optional
            Initial voltages instead of drawing them.
        record_v : bool
        """
        cue_index = np.asarray(cue_index, dtype=int).reshape(-1)
        if cue_index.size == 0 or cue_index.min() < 0 or cue_index.max() >= len(CUES):
            raise ValueError(f"cue_index must hold indices into the {len(CUES)} cues; got {cue_index}")
        b = cue_index.size
        v_e, v_i = self.initial_state(b, seed) if v0 is None else (
            torch.as_tensor(np.asarray(v0[0]), dtype=self.dtype), torch.as_tensor(np.asarray(v0[1]), dtype=self.dtype))
        nn = self.circuit.n_noise
        if noise is None:
            gen = torch.Generator().manual_seed(int(seed) + 7919)

            def noise_fn(k: int) -> torch.Tensor:
                return NOISE_NA * torch.randn((b, nn), generator=gen, dtype=self.dtype)
        else:
            arr = torch.as_tensor(np.asarray(noise), dtype=self.dtype)
            if arr.shape != (self.n_steps, b, nn):
                raise ValueError(f"noise must be (n_steps, B, n_noise) = {(self.n_steps, b, nn)}; got {tuple(arr.shape)}")

            def noise_fn(k: int) -> torch.Tensor:
                return arr[k]
        with torch.no_grad():
            return run_reference(self.circuit, cue_r=self.cue_r(), cue_index=cue_index, n_steps=self.n_steps,
                                 dt=self.dt, v0_e=v_e, v0_i=v_i, noise=noise_fn, record_from=self.record_from,
                                 record_every=self.record_every, record_v=record_v,
                                 compile=self.compile)

    def evaluate(self, *, n_repeats: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
        """Simulate the 20 trials and score every parameter set with the reference's objective.

        Returns
        -------
        dict
            ``error`` (K,), ``null`` (K,) bool, ``mean_pred`` (K, 8), ``rates_hz`` (K, 20, bins, n_e)
            E rates, ``result`` the :class:`RefResult`.
        """
        cues = trial_cues(n_repeats)
        res = self.simulate(cues, seed=seed)
        errors, nulls, preds = [], [], []
        for k in range(self.n_sets):
            if res.diverged[k].any():
                errors.append(np.inf)
                nulls.append(True)
                preds.append(np.full(8, np.nan))
                continue
            err, pred = cv_ridge_error(res.readout[k], cues)
            errors.append(err)
            preds.append(pred)
            nulls.append(bool(np.mean(np.abs(pred)) < NULL_PRED))
        return {"error": np.array(errors), "null": np.array(nulls), "mean_pred": np.array(preds),
                "rates_hz": res.e_spikes * (1000.0 / res.bin_ms), "result": res}
