"""Batched reservoir engine vs reservoirpy on the same trials.

Both run the same leaky tanh reservoir (float64, per-node leak, bias) on the same
1000 trials x 100 steps, every trial starting from the zero state. reservoirpy runs
its fastest per-trial-reset path, ``Reservoir.run`` on a (trials, steps, inputs)
array (each sequence starts from the node's initial state). The states of both are
compared, then the wall-clock times (best of ``--repeats`` for the engine, one run
for reservoirpy) and their ratio are printed.

Usage::

    python benchmarks/bench_reservoir.py [--trials 1000] [--steps 100] [--sizes 100 400] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from conn2rnn.models.reservoir import ConnectomeReservoir


def _reservoir(n: int, n_inputs: int, seed: int) -> ConnectomeReservoir:
    """Synthetic sparse directed reservoir (density 0.2), spectral radius 0.9."""
    rng = np.random.default_rng(seed)
    w = (rng.random((n, n)) < 0.2) * rng.lognormal(size=(n, n))
    np.fill_diagonal(w, 0)
    return ConnectomeReservoir.from_arrays(w, rng.uniform(-1, 1, (n, n_inputs)), spectral_radius=0.9,
                                           leak=rng.uniform(0.1, 0.9, n), bias=0.1 * rng.normal(size=n))


def _best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--inputs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads for every contender")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    print(f"{args.trials} trials x {args.steps} steps, {args.inputs} inputs, float64, per-trial reset; "
          f"{args.threads} thread(s); {platform.processor() or platform.machine()}, torch {torch.__version__}")
    u = np.random.default_rng(0).normal(size=(args.steps, args.trials, args.inputs))
    u_rpy = np.ascontiguousarray(u.transpose(1, 0, 2))  # reservoirpy: (trials, steps, inputs)
    header = f"{'N':>5} {'reservoirpy s':>14} {'numpy s':>9} {'ratio':>7} {'torch s':>9} {'ratio':>7} " \
             f"{'numpy f32 s':>12} {'max |diff|':>11}"
    print(header + "   (ratio = reservoirpy time / engine time; target >= 20x)")
    with threadpool_limits(args.threads):
        for n in args.sizes:
            res = _reservoir(n, args.inputs, seed=n)
            t_np, states = _best(lambda: res.run(u), args.repeats)
            t_th, states_th = _best(lambda: res.run(u, backend="torch"), args.repeats)
            t_32, _ = _best(lambda: res.run(u, dtype=np.float32), args.repeats)
            node = res.to_reservoirpy()
            t0 = time.perf_counter()
            ref = node.run(u_rpy)
            t_rpy = time.perf_counter() - t0
            diff = max(np.abs(states - ref.transpose(1, 0, 2)).max(),
                       np.abs(states_th.numpy() - states).max())
            print(f"{n:>5} {t_rpy:>14.3f} {t_np:>9.3f} {t_rpy / t_np:>6.1f}x {t_th:>9.3f} {t_rpy / t_th:>6.1f}x "
                  f"{t_32:>12.3f} {diff:>11.1e}")
            if torch.cuda.is_available():
                res.run(u[:2], backend="torch", device="cuda")  # warm-up

                def on_gpu():
                    out = res.run(u, backend="torch", device="cuda")
                    torch.cuda.synchronize()
                    return out

                t_gpu, _ = _best(on_gpu, args.repeats)
                print(f"{'':>5} cuda (float64, incl. transfers): {t_gpu:.4f} s, {t_rpy / t_gpu:.0f}x reservoirpy")


if __name__ == "__main__":
    main()
