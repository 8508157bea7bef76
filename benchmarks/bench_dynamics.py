"""Dynamics measures on many networks at once vs one network at a time.

The same M synthetic reservoirs (N nodes, density 0.2, spectral radius 0.9, per-node
leak, bias; three inputs, or one for the capacity) are measured twice: as one
``ReservoirEnsemble`` (one batched call) and in a Python loop over single
reservoirs. The results are checked to agree, then the wall-clock times (best of
``--repeats``) and their ratio are printed.

Usage::

    python benchmarks/bench_dynamics.py [--networks 100] [--nodes 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from conn2rnn.analysis import (
    closed_loop,
    fixed_points,
    generalized_synchronization,
    information_processing_capacity,
    lyapunov_spectrum,
)
from conn2rnn.models import ConnectomeReservoir, ReservoirEnsemble


def _reservoirs(m: int, n: int, n_inputs: int) -> list[ConnectomeReservoir]:
    out = []
    for seed in range(m):
        rng = np.random.default_rng(seed)
        w = (rng.random((n, n)) < 0.2) * rng.normal(size=(n, n))
        out.append(ConnectomeReservoir.from_arrays(w, rng.uniform(-0.3, 0.3, (n, n_inputs)), spectral_radius=0.9,
                                                   leak=rng.uniform(0.2, 0.6, n), bias=0.3 * rng.normal(size=n)))
    return out


def _best(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    m, n = args.networks, args.nodes
    three, one = _reservoirs(m, n, 3), _reservoirs(m, n, 1)
    ens3, ens1 = ReservoirEnsemble(tuple(three), tuple(range(m))), ReservoirEnsemble(tuple(one), tuple(range(m)))
    measures = {
        "lyapunov_spectrum (3 exponents, 1000 steps)": (
            lambda model: lyapunov_spectrum(model, n_exponents=3, n_steps=1000, x0=np.zeros(n))[:, 0], ens3, three,
            2e-3),  # the random initial tangent vectors differ between the two runs
        "closed_loop (Lorenz, 1500 + 500 steps)": (
            lambda model: closed_loop(model, "lorenz", n_train=1500, n_generate=500).generated[-1, :, 0],
            ens3, three, 1e-8),
        "generalized_synchronization (1500 steps)": (
            lambda model: generalized_synchronization(model, "lorenz", n_steps=1500, washout=300)["r2_mean"]
            .to_numpy(), ens3, three, 1e-8),
        "fixed_points (16 starts)": (
            lambda model: fixed_points(model, n_starts=16).table.groupby("network").size().to_numpy(), ens3, three,
            0),
        "information_processing_capacity (3000 steps)": (
            lambda model: information_processing_capacity(model, max_delays=(20, 6, 3), n_steps=3000,
                                                          washout=30).summary["total"].to_numpy(), ens1, one,
            1e-8),
    }
    print(f"{m} networks x {n} nodes, float64, {args.threads} thread(s); "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}")
    print(f"{'measure':46s} {'batched s':>10} {'loop s':>9} {'ratio':>7}  agree")
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, (fn, ensemble, singles, atol) in measures.items():
            t_batch, batched = _best(lambda fn=fn, ensemble=ensemble: fn(ensemble), args.repeats)
            t_loop, looped = _best(lambda fn=fn, singles=singles: np.concatenate([np.atleast_1d(fn(r))
                                                                                  for r in singles]), 1)
            agree = np.allclose(np.asarray(batched, float), np.asarray(looped, float), rtol=1e-6, atol=atol,
                                equal_nan=True)
            print(f"{name:46s} {t_batch:>10.2f} {t_loop:>9.2f} {t_loop / t_batch:>6.1f}x  {agree}")


if __name__ == "__main__":
    main()
