"""Pruning of recurrent weights during training, by updating the recurrent mask.

A :class:`Pruning` removes, at scheduled steps, the weakest of each network's
recurrent weights until a target fraction of the weights allowed at the start of
training is gone. It acts through the mask the forward pass already applies
(``w = mask * raw``), so a pruned weight is exactly zero, its gradient is exactly
zero, and the raw weight and its Adam moments are zeroed at pruning time so no
optimiser step moves it (Adam's update of a zero moment with a zero gradient is
exactly zero). Optional regrowth re-enables, at each event, a fraction of the
kept weights elsewhere at random (starting from zero; from a magnitude of 1e-6
under Dale's law, whose ``|raw|`` has no gradient at zero), as in dynamic sparse
training.

Sparsity follows the cubic ramp of Zhu & Gupta (2017):
``s(t) = target * (1 - (1 - frac)**3)``, ``frac = (t - begin) / (end - begin)``
clipped to [0, 1], at the steps ``begin, begin + every, ...`` up to ``end``.

Scores: ``"magnitude"`` ranks ``|w|``; ``"distance"`` ranks
``|w| * exp(-d / mean(d))`` (long connections are pruned first at equal
weight), with ``d`` the regime's distance, a given matrix, or the graph's
Euclidean distance.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["PRUNING_METHODS", "Pruning"]

PRUNING_METHODS: tuple[str, ...] = ("magnitude", "distance")


@dataclass(frozen=True)
class Pruning:
    """Scheduled magnitude or distance-aware pruning of the recurrent weights.

    Parameters
    ----------
    target_sparsity : float in [0, 1)
        Fraction of the initially allowed recurrent weights of each network
        that are pruned from step ``end`` on.
    begin, end : int
        First and last pruning step (``end >= begin``).
    every : int
        Steps between pruning events.
    method : {"magnitude", "distance"}
    regrow : float in [0, 1)
        Fraction of the kept weights regrown at random at each event (0: none).
    distance : (N, N) array_like, optional
        Distances for ``method="distance"`` (default: the network's regime
        distance, else ``model.graph.distance("euclidean")``).
    seed : int
        Seed of the regrowth draws (network ``k`` at step ``t`` draws from
        ``SeedSequence([seed, t, k])``).
    """

    target_sparsity: float
    begin: int = 0
    end: int = 0
    every: int = 10
    method: str = "magnitude"
    regrow: float = 0.0
    distance: Any = None
    seed: int = 0

    def __post_init__(self) -> None:
        s = self.target_sparsity
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0 <= s < 1:
            raise ValueError(f"target_sparsity must be a number in [0, 1); got {s!r}")
        for name, low in (("begin", 0), ("end", 0), ("every", 1), ("seed", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
                raise ValueError(f"{name} must be an int >= {low}; got {v!r}")
        if self.end < self.begin:
            raise ValueError(f"end ({self.end}) must be >= begin ({self.begin})")
        if self.method not in PRUNING_METHODS:
            raise ValueError(f"method must be one of {list(PRUNING_METHODS)}; got {self.method!r}")
        r = self.regrow
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not 0 <= r < 1:
            raise ValueError(f"regrow must be a number in [0, 1); got {r!r}")
        if self.distance is not None:
            d = np.asarray(self.distance, dtype=np.float64)
            if d.ndim != 2 or d.shape[0] != d.shape[1] or not np.all(np.isfinite(d)) or np.any(d < 0):
                raise ValueError(f"distance must be a finite non-negative (N, N) array; got shape {d.shape}")
            object.__setattr__(self, "distance", d)

    def sparsity_at(self, step: int) -> float:
        """Target sparsity after the event at ``step`` (cubic ramp)."""
        if self.end == self.begin:
            frac = 1.0 if step >= self.begin else 0.0
        else:
            frac = min(max((step - self.begin) / (self.end - self.begin), 0.0), 1.0)
        return float(self.target_sparsity * (1.0 - (1.0 - frac) ** 3))

    def is_event(self, step: int) -> bool:
        """Whether the mask is updated before the optimiser step ``step``."""
        return self.begin <= step <= self.end and (step - self.begin) % self.every == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (the distance matrix as a flag)."""
        return {"target_sparsity": float(self.target_sparsity), "begin": self.begin, "end": self.end,
                "every": self.every, "method": self.method, "regrow": float(self.regrow),
                "distance": None if self.distance is None else "given", "seed": self.seed}

    # ------------------------------------------------------------------ application
    def distances(self, model) -> list[np.ndarray | None]:
        """Per network, the distance matrix the "distance" score uses (None for "magnitude")."""
        k, n = model.n_networks, model.n_nodes
        if self.method == "magnitude":
            return [None] * k
        if self.distance is not None:
            if self.distance.shape != (n, n):
                raise ValueError(f"distance must be (N, N) = ({n}, {n}); got {self.distance.shape}")
            return [self.distance] * k
        out = []
        for j in range(k):
            arrays = None if model.regime_arrays is None else model.regime_arrays[j]
            if arrays is not None and arrays.distance is not None:
                out.append(np.asarray(arrays.distance, dtype=np.float64))
            elif model.graph is not None:
                out.append(np.asarray(model.graph.distance("euclidean"), dtype=np.float64))
            else:
                raise ValueError("method='distance' needs distances: pass Pruning(distance=...) or build the "
                                 "model with BioRNN.from_graph")
        return out

    @torch.no_grad()
    def apply(self, model, optimizer, step: int, allowed: torch.Tensor, distances: list) -> np.ndarray:
        """Update ``model.recurrent_mask`` for the event at ``step``; returns (K,) active counts.

        Parameters
        ----------
        model : BioRNN
        optimizer : torch.optim.Optimizer
            Its state for ``w_rec_raw`` (Adam moments) is zeroed where weights are
            pruned or regrown.
        step : int
        allowed : (K, N, N) bool tensor
            The mask at the start of training (weights that may ever exist).
        distances : list of K (N, N) arrays or None
            From :meth:`distances`.
        """
        mask = model.recurrent_mask
        w = model.w_rec.detach().abs().double().cpu().numpy()
        masks, allowed_np = mask.cpu().numpy(), allowed.cpu().numpy()
        sparsity = self.sparsity_at(step)
        counts = np.zeros(model.n_networks, dtype=np.int64)
        new_mask = np.zeros_like(masks)
        for k in range(model.n_networks):
            n_keep = min(round(int(allowed_np[k].sum()) * (1.0 - sparsity)), int(masks[k].sum()))
            n_regrow = round(self.regrow * n_keep)
            score = w[k]
            if distances[k] is not None:
                d = distances[k]
                off = ~np.eye(d.shape[0], dtype=bool)
                scale = float(d[off].mean()) if off.any() else 0.0
                score = score * np.exp(-d / (scale if scale > 0 else 1.0))
            active = np.flatnonzero(masks[k])
            # strongest first; ties broken by index so the result does not depend on the sort
            order = np.lexsort((active, -score.ravel()[active]))
            row = np.zeros(masks[k].size, dtype=bool)
            row[active[order[: n_keep - n_regrow]]] = True
            if n_regrow:
                candidates = np.flatnonzero(allowed_np[k].ravel() & ~masks[k].ravel())
                rng = np.random.default_rng(np.random.SeedSequence([self.seed, step, k]))
                pick = rng.choice(candidates.size, size=min(n_regrow, candidates.size), replace=False)
                row[candidates[np.sort(pick)]] = True
            new_mask[k] = row.reshape(masks[k].shape)
            counts[k] = int(row.sum())
        new_mask = torch.from_numpy(new_mask).to(mask.device)
        changed = new_mask != mask
        mask.copy_(new_mask)
        model.w_rec_raw.masked_fill_(changed, 0.0)
        if model.config["dale"]:
            # |raw| has zero gradient at 0: regrown Dale weights start at a tiny magnitude instead
            model.w_rec_raw.masked_fill_(changed & new_mask, 1e-6)
        state = optimizer.state.get(model.w_rec_raw, {})
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in state:
                state[key].masked_fill_(changed, 0.0)
        return counts
